"""Declared schemas of the corpus's event and registry tables (breaches, planes, polls, storms), from their docs."""
from __future__ import annotations

from ._fields import US_STATE_NAMES, US_STATES, cat, date, doc, ident, num


def breaches() -> dict:
    src = "Ecdat::breaches help (HHS breaches of 500+ health records, extract of 2014-06-27)"
    f = [ident("rownames"), ident("Number", "record number in the HHS data base"),
         ident("Name_of_Covered_Entity", "name of the entity: identifies it, never learned"),
         cat("State", US_STATES + ["DC", "PR"], f"{src}: 52 levels, 50 states + DC + PR"),
         ident("Business_Associate_Involved", "name of a subcontractor (or blank): free text"),
         num("Individuals_Affected", 500, 1_000_000_000, f"{src}: 500 or more by law; declared cap 10^9", True),
         ident("Date_of_Breach", "a date or date range as free text (recoded in breach_start/breach_end)"),
         ident("Type_of_Breach", "29 levels the help page does not list (combinations of types): not declared"),
         ident("Location_of_Breached_Information", "41 levels the help page does not list: not declared"),
         date("Date_Posted_or_Updated", "2009-09-23", "2014-12-31",
              f"{src}: HITECH breach rule in force 2009-09-23; extract of mid-2014, declared to the year's end"),
         ident("Summary", "summary of the incident: free text"),
         date("breach_start", "1990-01-01", "2014-06-27", f"{src}: earliest breach 1997, extract 2014-06-27"),
         date("breach_end", "1990-01-01", "2014-06-27", f"{src}: NA when one date is given", nullable=True),
         num("year", 1990, 2014, f"{src}: year of the breach, 1997-2014", True)]
    return doc("breaches", "US health-record breaches reported to HHS, 2009-2014 (Ecdat::breaches).", f, 100_000,
               "HHS breach portal: about a thousand reports; declared upper bound 10^5")


def planes() -> dict:
    src = "nycflights13::planes help / FAA aircraft registry codes"
    f = [ident("rownames"), ident("tailnum", "tail number: identifies the aircraft"),
         num("year", 1900, 2013, f"{src}: year manufactured, planes flying in 2013", True, True),
         cat("type", ["Fixed wing single engine", "Fixed wing multi engine", "Rotorcraft", "Glider", "Balloon",
                      "Blimp/Dirigible", "Weight-shift-control", "Powered Parachute", "Gyroplane"],
             f"{src}: FAA aircraft types"),
         ident("manufacturer", "35 manufacturer names, not listed by the help page: not declared"),
         ident("model", "127 model codes, not listed by the help page: not declared"),
         num("engines", 0, 10, f"{src}: number of engines, declared 0-10", True),
         num("seats", 1, 1000, f"{src}: number of seats, declared 1-1000", True),
         num("speed", 0, 1000, f"{src}: average cruising speed in mph, mostly missing", True, True),
         cat("engine", ["None", "Reciprocating", "Turbo-prop", "Turbo-shaft", "Turbo-jet", "Turbo-fan", "Ramjet",
                        "2 Cycle", "4 Cycle", "Unknown", "Electric", "Rotary"], f"{src}: FAA engine types")]
    return doc("planes", "Aircraft seen at New York airports in 2013, FAA registry data (nycflights13::planes).", f,
               100_000, "FAA registry: a few thousand tail numbers; declared upper bound 10^5")


def polls() -> dict:
    src = "dslabs::polls_us_election_2016 help (FiveThirtyEight 2016 polls)"
    pct = f"{src}: a vote share in percent"
    adj = f"{src}: FiveThirtyEight's adjusted share in percent; adjustments may leave 0-100, declared -50-150"
    states = US_STATE_NAMES + ["District of Columbia", "U.S.", "Maine CD-1", "Maine CD-2", "Nebraska CD-1",
                               "Nebraska CD-2", "Nebraska CD-3"]
    f = [ident("rownames"),
         cat("state", states, f"{src}: 50 states, DC, the national polls (U.S.) and the 5 split districts"),
         date("startdate", "2015-01-01", "2016-11-08", f"{src}: 2016 campaign, election day 2016-11-08"),
         date("enddate", "2015-01-01", "2016-11-08", f"{src}: 2016 campaign, election day 2016-11-08"),
         ident("pollster", "about 200 pollster names, not listed by the help page: not declared"),
         cat("grade", ["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F"],
             f"{src}: FiveThirtyEight pollster grades A+ to F", True, True),
         num("samplesize", 1, 1_000_000, f"{src}: respondents, declared 1-10^6", nullable=True),
         cat("population", ["lv", "rv", "v", "a"], f"{src}: likely/registered voters, voters, adults"),
         num("rawpoll_clinton", 0, 100, pct), num("rawpoll_trump", 0, 100, pct),
         num("rawpoll_johnson", 0, 100, f"{pct}; not asked in every poll", nullable=True),
         num("rawpoll_mcmullin", 0, 100, f"{pct}; asked in few polls", nullable=True),
         num("adjpoll_clinton", -50, 150, adj), num("adjpoll_trump", -50, 150, adj),
         num("adjpoll_johnson", -50, 150, adj, nullable=True), num("adjpoll_mcmullin", -50, 150, adj, nullable=True)]
    return doc("polls", "US 2016 presidential election polls (dslabs::polls_us_election_2016).", f, 100_000,
               "FiveThirtyEight's 2016 poll list: a few thousand polls; declared upper bound 10^5")


def storms() -> dict:
    src = "dplyr::storms help (NOAA HURDAT2 Atlantic best track)"
    f = [ident("rownames"), ident("name", "storm name (about 260 distinct): not declared, names are reused"),
         num("year", 1851, 2030, f"{src}: HURDAT2 starts in 1851", True),
         num("month", 1, 12, f"{src}: month of report", True), num("day", 1, 31, f"{src}: day of report", True),
         num("hour", 0, 23, f"{src}: hour of report in UTC", True),
         num("lat", -90, 90, f"{src}: latitude in degrees"), num("long", -180, 180, f"{src}: longitude in degrees"),
         cat("status", ["tropical depression", "tropical storm", "hurricane", "extratropical",
                        "subtropical depression", "subtropical storm", "other low", "tropical wave", "disturbance"],
             f"{src}: HURDAT2 system status codes"),
         num("category", 1, 5, f"{src}: Saffir-Simpson category, NA when not a hurricane", True, True),
         num("wind", 0, 200, f"{src}: maximum sustained wind in knots, declared 0-200", True),
         num("pressure", 850, 1050, f"{src}: central pressure in millibars", True),
         num("tropicalstorm_force_diameter", 0, 2000, f"{src}: nautical miles, only from 2004", True, True),
         num("hurricane_force_diameter", 0, 1000, f"{src}: nautical miles, only from 2004", True, True)]
    return doc("storms", "Atlantic storm tracks 1975-2022 (dplyr::storms).", f, 1_000_000,
               "HURDAT2 has about 50,000 six-hourly records; declared upper bound 10^6")

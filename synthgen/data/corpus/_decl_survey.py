"""Declared schemas of the corpus's survey and study tables (star, caravan, nhefs, wages), from their documentation."""
from __future__ import annotations

from ._fields import YES_NO, cat, doc, ident, num

GRADES = ("k", "1", "2", "3")


def star() -> dict:
    src = "AER::STAR help (Project STAR public access data)"
    quarters = [f"{y} Q{q}" for y in range(1976, 1984) for q in range(1, 5)]
    f = [ident("rownames"),
         cat("gender", ["male", "female"], src, nullable=True),
         cat("ethnicity", ["cauc", "afam", "asian", "hispanic", "amindian", "other"], src, nullable=True),
         cat("birth", quarters, f"{src}: birth quarter; K entrants of 1985-1988 born 1976-1983", True, True)]
    for g in GRADES:
        f.append(cat(f"star{g}", ["regular", "small", "regular+aide"], f"{src}: NA = no STAR class that grade", True))
    for subj in ("read", "math"):
        for g in GRADES:
            f.append(num(f"{subj}{g}", 0, 1000, f"{src}: SAT scaled score, declared 0-1000", True, True))
    for g in GRADES:
        f.append(cat(f"lunch{g}", ["free", "non-free"], src, True))
    for g in GRADES:
        f.append(cat(f"school{g}", ["inner-city", "suburban", "rural", "urban"], src, True))
    f.append(cat("degreek", ["bachelor", "master", "specialist", "master+"], src, True))
    for g in GRADES[1:]:
        f.append(cat(f"degree{g}", ["bachelor", "master", "specialist", "phd"], src, True))
    f.append(cat("ladderk", ["level1", "level2", "level3", "apprentice", "probation", "pending"], src, True))
    for g in GRADES[1:]:  # the help page spells the last level "noladder"; the factor level is "notladder"
        f.append(cat(f"ladder{g}", ["level1", "level2", "level3", "apprentice", "probation", "notladder"],
                     f"{src} (level 'notladder', spelt 'noladder' on the help page)", True))
    for g in GRADES:
        f.append(num(f"experience{g}", 0, 60, f"{src}: teacher's years of experience, declared 0-60", True, True))
    for g in GRADES:
        f.append(cat(f"tethnicity{g}", ["cauc", "afam", "asian"], src, True))
    for g in GRADES:  # integer-coded categoricals: system and school IDs (79 schools)
        f.append(cat(f"system{g}", list(range(1, 100)), f"{src}: school system ID, an integer code below 100", True))
    for g in GRADES:
        f.append(cat(f"schoolid{g}", list(range(1, 100)), f"{src}: school ID (79 schools), an integer code below 100",
                     True))
    return doc("star", "Project STAR class-size experiment, Tennessee 1985-1989 (AER::STAR).", f, 100_000,
               "AER::STAR help: 11,598 students; declared upper bound 10^5")


def caravan() -> dict:
    src = "ISLR::Caravan help / CoIL Challenge 2000 data dictionary"
    names = ("MAANTHUI MGEMOMV MGEMLEEF MOSHOOFD MGODRK MGODPR MGODOV MGODGE MRELGE MRELSA MRELOV MFALLEEN MFGEKIND "
             "MFWEKIND MOPLHOOG MOPLMIDD MOPLLAAG MBERHOOG MBERZELF MBERBOER MBERMIDD MBERARBG MBERARBO MSKA MSKB1 "
             "MSKB2 MSKC MSKD MHHUUR MHKOOP MAUT1 MAUT2 MAUT0 MZFONDS MZPART MINKM30 MINK3045 MINK4575 MINK7512 "
             "MINK123M MINKGEM MKOOPKLA").split()
    products = ("WAPART WABEDR WALAND PERSAUT BESAUT MOTSCO VRAAUT AANHANG TRACTOR WERKT BROM LEVEN PERSONG GEZONG "
                "WAOREG BRAND ZEILPL PLEZIER FIETS INBOED BYSTAND").split()
    f = [ident("rownames"), cat("MOSTYPE", list(range(1, 42)), f"{src}: customer subtype, code L0 1-41")]
    for n in names:
        if n == "MAANTHUI":
            f.append(num(n, 1, 10, f"{src}: number of houses 1-10", True))
        elif n == "MGEMOMV":
            f.append(num(n, 1, 6, f"{src}: average household size 1-6", True))
        elif n == "MGEMLEEF":
            f.append(cat(n, [1, 2, 3, 4, 5, 6], f"{src}: average age band, code L1 1-6", ordered=True))
        elif n == "MOSHOOFD":
            f.append(cat(n, list(range(1, 11)), f"{src}: customer main type, code L2 1-10"))
        else:
            f.append(num(n, 0, 9, f"{src}: percentage band, code L3 0-9", True))
    for p in products:
        f.append(num(f"P{p}", 0, 9, f"{src}: contribution band, code L4 0-9", True))
    for p in products:
        f.append(num(f"A{p}", 0, 12, f"{src}: number of policies 0-12", True))
    f.append(cat("Purchase", ["No", "Yes"], f"{src}: bought a caravan policy?"))
    return doc("caravan", "Insurance customers, CoIL Challenge 2000 (ISLR::Caravan).", f, 100_000,
               "ISLR::Caravan help: 5,822 customers; declared upper bound 10^5")


def nhefs() -> dict:
    src = "causaldata::nhefs_codebook"
    ever = [0, 1]
    f = [ident("rownames"), ident("seqn", "unique personal identifier"),
         cat("qsmk", ever, f"{src}: quit smoking 1971-1982"), cat("death", ever, f"{src}: death by 1992"),
         num("yrdth", 82, 92, f"{src}: year of death (19xx), deaths 1982-1992 only", True, True),
         num("modth", 1, 12, f"{src}: month of death, deaths only", True, True),
         num("dadth", 1, 31, f"{src}: day of death, deaths only", True, True),
         num("sbp", 50, 300, f"{src}: systolic blood pressure mmHg, physiological range", True, True),
         num("dbp", 20, 200, f"{src}: diastolic blood pressure mmHg, physiological range", True, True),
         cat("sex", ever, f"{src}: 0 male, 1 female"),
         num("age", 25, 74, f"{src}: NHANES I ages 25-74", True), cat("race", ever, f"{src}: 0 white, 1 other"),
         cat("income", list(range(11, 23)), f"{src}: family income codes 11-22", True, True),
         cat("marital", [1, 2, 3, 4, 5, 6, 8], f"{src}: marital status codes"),
         num("school", 0, 17, f"{src}: highest grade of school, 0-17", True),
         cat("education", [1, 2, 3, 4, 5], f"{src}: education codes 1-5", ordered=True),
         num("ht", 100, 230, f"{src}: height in cm, adult range"),
         num("wt71", 20, 300, f"{src}: weight in kg, adult range"),
         num("wt82", 20, 300, f"{src}: weight in kg, adult range"),
         num("wt82_71", -150, 150, f"{src}: weight change in kg"),
         cat("birthplace", list(range(1, 57)), f"{src}: state code (FIPS 1-56)", True),
         num("smokeintensity", 0, 100, f"{src}: cigarettes per day, declared 0-100", True),
         num("smkintensity82_71", -100, 100, f"{src}: change in cigarettes per day", True),
         num("smokeyrs", 0, 80, f"{src}: years of smoking", True)]
    for c in ("asthma bronch tb hf pepticulcer colitis hepatitis chroniccough hayfever polio tumor nervousbreak "
              "headache otherpain weakheart allergies nerves lackpep wtloss infection").split():
        f.append(cat(c, ever, f"{src}: 1 ever, 0 never"))
    for c in ("hbp diabetes pica hbpmed boweltrouble birthcontrol alcoholpy").split():
        f.append(cat(c, [0, 1, 2], f"{src}: 1 ever/yes, 0 never/no, 2 missing"))
    f += [cat("alcoholfreq", [0, 1, 2, 3, 4, 5], f"{src}: drinking frequency codes 0-5"),
          cat("alcoholtype", [1, 2, 3, 4], f"{src}: beer, wine, liquor, other"),
          num("alcoholhowmuch", 0, 100, f"{src}: drinks per occasion, declared 0-100", True, True),
          cat("active", [0, 1, 2], f"{src}: activity codes 0-2"), cat("exercise", [0, 1, 2], f"{src}: codes 0-2"),
          num("pregnancies", 0, 30, f"{src}: number of pregnancies (women only)", True, True),
          num("cholesterol", 50, 1000, f"{src}: serum cholesterol mg/100ml", True, True),
          cat("hightax82", ever, f"{src}: lived in a highly taxed state 1982", True),
          num("price71", 0, 10, f"{src}: tobacco price US$2008", nullable=True),
          num("price82", 0, 10, f"{src}: tobacco price US$2008", nullable=True),
          num("tax71", 0, 10, f"{src}: tobacco tax US$2008", nullable=True),
          num("tax82", 0, 10, f"{src}: tobacco tax US$2008", nullable=True),
          num("price71_82", -10, 10, f"{src}: price difference US$2008", nullable=True),
          num("tax71_82", -10, 10, f"{src}: tax difference US$2008", nullable=True),
          ident("id", "row identifier"),
          # complete-data: wt82 observed for everyone, so 'censored' is 0 in every row by definition
          cat("censored", [0], "causaldata::nhefs_complete help: complete cases only, none censored"),
          cat("older", ever, f"{src}: older than 50 in 1971")]
    return doc("nhefs", "NHANES I Epidemiologic Follow-up, complete cases (causaldata::nhefs_complete).", f, 100_000,
               "NHEFS: about 1,600 participants; declared upper bound 10^5")


def wages() -> dict:
    src = "Ecdat::Wages help (PSID panel 1976-1982, Cornwell & Rupert)"
    f = [ident("rownames"), num("exp", 0, 60, f"{src}: years of full-time experience, declared 0-60", True),
         num("wks", 0, 52, f"{src}: weeks worked in a year", True), cat("bluecol", YES_NO, src),
         cat("ind", [0, 1], f"{src}: works in manufacturing (0/1)"), cat("south", YES_NO, src),
         cat("smsa", YES_NO, src), cat("married", YES_NO, src), cat("sex", ["male", "female"], src),
         cat("union", YES_NO, src), num("ed", 0, 20, f"{src}: years of education, declared 0-20", True),
         cat("black", YES_NO, src), num("lwage", 0, 12, f"{src}: log wage, declared 0-12")]
    return doc("wages", "US wage panel 1976-1982 (Ecdat::Wages).", f, 100_000,
               "Ecdat::Wages help: 595 people x 7 years; declared upper bound 10^5")

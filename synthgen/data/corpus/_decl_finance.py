"""Declared schemas of the corpus's finance tables (loanapp, default, creditcard, hmda), from their documentation."""
from __future__ import annotations

from ._fields import YES_NO, cat, doc, ident, num

WB = "wooldridge::loanapp help (Boston Fed mortgage study, Munnell et al. 1996; HMDA codes)"
MISSING = "the source file codes not-recorded as 999999.375 / 999 / 666"


def loanapp() -> dict:
    yes = [0, 1]
    f = [ident("rownames"),
         cat("occ", [1, 2, 3], f"{WB}: HMDA occupancy codes 1-3"),
         num("loanamt", 0, 10000, f"{WB}: loan amount in USD 1000s", True),
         cat("action", list(range(1, 9)), f"{WB}: HMDA action-taken codes 1-8"),
         cat("msa", [1120], f"{WB}: every property in the Boston MSA (code 1120)"),
         cat("suffolk", yes, WB), num("appinc", 0, 10000, f"{WB}: applicant income in USD 1000s", True),
         cat("typur", list(range(10)), f"{WB}: HMDA purchaser-type codes 0-9"),
         num("unit", 1, 4, f"{WB}: units in property (1-4 family homes)", True, True),
         cat("married", yes, WB, True), num("dep", 0, 20, f"{WB}: dependents, declared 0-20", True, True),
         num("emp", 0, 99, f"{WB}: years employed in line of work, declared 0-99", True),
         num("yjob", 0, 99, f"{WB}: years at this job, declared 0-99", True), cat("self", yes, WB),
         num("atotinc", 0, 1_000_000, f"{WB}: total monthly income in USD", True),
         num("cototinc", 0, 1_000_000, f"{WB}: co-applicant monthly income in USD"),
         num("hexp", 0, 100_000, f"{WB}: proposed monthly housing expense in USD"),
         num("price", 0, 100_000, f"{WB}: purchase price in USD 1000s"),
         num("other", 0, 100_000, f"{WB}: other financing in USD 1000s"),
         num("liq", 0, 10_000_000, f"{WB}: liquid assets in USD 1000s"),
         num("rep", 0, 100, f"{WB}: number of credit reports, declared 0-100", True, True),
         cat("gdlin", [0, 1, 666], f"{WB}: meets guidelines (1); {MISSING}"),
         num("lines", 0, 1_000_000, f"{WB}: credit lines on reports; {MISSING}"),
         cat("mortg", [1, 2, 3, 4], f"{WB}: mortgage credit history codes 1-4", ordered=True),
         cat("cons", [1, 2, 3, 4, 5, 6], f"{WB}: consumer credit history codes 1-6", ordered=True),
         cat("pubrec", yes, WB),
         num("hrat", 0, 100, f"{WB}: housing expense, percent of total income"),
         num("obrat", 0, 100, f"{WB}: other obligations, percent of total income"),
         cat("fixadj", yes, WB), num("term", 0, 1_000_000, f"{WB}: term in months; {MISSING}"),
         num("apr", 0, 100_000, f"{WB}: appraised value in USD 1000s"),
         cat("prop", [1, 2, 3], f"{WB}: property type codes 1-3")]
    f += [cat(c, yes, WB) for c in ("inss", "inson", "gift", "cosign", "unver")]
    f += [num("review", 0, 999, f"{WB}: times reviewed; {MISSING}", True),
          num("netw", -1_000_000, 1_000_000, f"{WB}: net worth in USD 1000s"),
          num("unem", 0, 100, f"{WB}: unemployment rate by industry, a percentage"),
          cat("min30", yes, WB, True)]
    f += [cat(c, yes, WB) for c in ("bd", "mi", "old", "vr", "sch", "black", "hispan")]
    f += [cat("male", yes, WB, True)]
    f += [cat(c, yes, WB) for c in ("reject", "approve", "mortno", "mortperf", "mortlat1", "mortlat2", "chist")]
    f += [cat("multi", yes, WB, True), num("loanprc", 0, 10, f"{WB}: loan amount over price, a ratio"),
          cat("thick", yes, WB, True), cat("white", yes, WB)]
    return doc("loanapp", "Boston mortgage applications 1990 with credit files (wooldridge::loanapp).", f, 100_000,
               "wooldridge::loanapp help: 1,989 applications; declared upper bound 10^5")


def default() -> dict:
    src = "ISLR::Default help (simulated credit-card customers)"
    f = [ident("rownames"), cat("default", ["No", "Yes"], src), cat("student", ["No", "Yes"], src),
         num("balance", 0, 10000, f"{src}: monthly balance after payment, USD, declared 0-10,000"),
         num("income", 0, 250000, f"{src}: annual income, USD, declared 0-250,000")]
    return doc("default", "Simulated credit-card default data (ISLR::Default).", f, 100_000,
               "ISLR::Default help: ten thousand customers; declared upper bound 10^5")


def creditcard() -> dict:
    src = "AER::CreditCard help"
    f = [ident("rownames"), cat("card", YES_NO, f"{src}: application accepted?"),
         num("reports", 0, 100, f"{src}: number of major derogatory reports, declared 0-100", True),
         num("age", 0, 100, f"{src}: years plus twelfths"),
         num("income", 0, 100, f"{src}: yearly income in USD 10,000, declared 0-100 (USD 1M)"),
         num("share", 0, 1, f"{src}: monthly card spend over yearly income, a ratio in [0, 1]"),
         num("expenditure", 0, 10000, f"{src}: average monthly card spend in USD, declared 0-10,000"),
         cat("owner", YES_NO, src), cat("selfemp", YES_NO, src),
         num("dependents", 0, 20, f"{src}: number of dependents, declared 0-20", True),
         num("months", 0, 1200, f"{src}: months at current address, declared 0-1200 (100 years)", True),
         num("majorcards", 0, 20, f"{src}: number of major credit cards, declared 0-20", True),
         num("active", 0, 200, f"{src}: number of active credit accounts, declared 0-200", True)]
    return doc("creditcard", "Credit card applications (AER::CreditCard, Greene).", f, 100_000,
               "AER::CreditCard help: 1,319 applications; declared upper bound 10^5")


def hmda() -> dict:
    src = "AER::HMDA help (Boston HMDA 1990, Stock & Watson)"
    ratio = f"{src}: a ratio, declared 0-10"
    f = [ident("rownames"), cat("deny", YES_NO, f"{src}: mortgage denied?"),
         num("pirat", 0, 10, ratio), num("hirat", 0, 10, ratio), num("lvrat", 0, 10, ratio),
         cat("chist", [1, 2, 3, 4, 5, 6], f"{src}: consumer credit history codes 1 (no slow payments) - 6",
             ordered=True),
         cat("mhist", [1, 2, 3, 4], f"{src}: mortgage credit history codes 1-4", ordered=True),
         cat("phist", YES_NO, src),
         num("unemp", 0, 100, f"{src}: unemployment rate, a percentage"),
         cat("selfemp", YES_NO, src), cat("insurance", YES_NO, src), cat("condomin", YES_NO, src),
         cat("afam", YES_NO, src), cat("single", YES_NO, src), cat("hschool", YES_NO, src)]
    return doc("hmda", "Boston mortgage applications 1990 (AER::HMDA).", f, 100_000,
               "AER::HMDA help: 2,380 applications; declared upper bound 10^5")

"""Declared schemas of the corpus's finance tables (loans, default, creditcard, hmda), from their documentation."""
from __future__ import annotations

from ._build import US_STATES, YES_NO, cat, doc, ident, num

LC = "Lending Club data dictionary / openintro::loans_full_schema help"
MONEY = "USD amount; declared cap of a consumer-credit codebook"


def loans() -> dict:
    cnt = "count of credit lines/accounts; declared 0-200"
    f = [ident("rownames"), ident("emp_title", "job title: free text (4,000+ distinct titles), never learned"),
         num("emp_length", 0, 10, f"{LC}: years in job, rounded down, 10 means 10 or more", True, True),
         cat("state", US_STATES + ["DC"], "two-letter US state codes (50 states + DC)"),
         cat("homeownership", ["MORTGAGE", "RENT", "OWN", "ANY", "OTHER", "NONE"], f"{LC}: home_ownership values"),
         num("annual_income", 0, 10_000_000, f"{LC}: self-reported annual income, {MONEY}"),
         cat("verified_income", ["Verified", "Source Verified", "Not Verified"], f"{LC}: verification status"),
         num("debt_to_income", 0, 999, f"{LC}: DTI in percent, 999 = LC's cap", nullable=True),
         num("annual_income_joint", 0, 10_000_000, f"{LC}: joint applications only (structural null), {MONEY}",
             nullable=True),
         cat("verification_income_joint", ["Verified", "Source Verified", "Not Verified"],
             f"{LC}: joint applications only", nullable=True),
         num("debt_to_income_joint", 0, 999, f"{LC}: joint DTI in percent, joint applications only", nullable=True),
         num("delinq_2y", 0, 50, f"{LC}: delinquencies in 2 years, declared 0-50", True),
         num("months_since_last_delinq", 0, 600, f"{LC}: months, null when never delinquent", True, True),
         num("earliest_credit_line", 1900, 2018, f"{LC}: year of earliest credit line; loans issued 2018", True),
         num("inquiries_last_12m", 0, 100, f"{LC}: inquiries in 12 months, declared 0-100", True),
         num("total_credit_lines", 0, 200, f"{LC}: {cnt}", True),
         num("open_credit_lines", 0, 200, f"{LC}: {cnt}", True),
         num("total_credit_limit", 0, 10_000_000, f"{LC}: {MONEY}", True),
         num("total_credit_utilized", 0, 10_000_000, f"{LC}: {MONEY}", True),
         num("num_collections_last_12m", 0, 50, f"{LC}: collections in 12 months, declared 0-50", True),
         num("num_historical_failed_to_pay", 0, 100, f"{LC}: derogatory public records, declared 0-100", True),
         num("months_since_90d_late", 0, 600, f"{LC}: months, null when never 90 days late", True, True),
         num("current_accounts_delinq", 0, 50, f"{LC}: {cnt}", True),
         num("total_collection_amount_ever", 0, 10_000_000, f"{LC}: {MONEY}", True),
         num("current_installment_accounts", 0, 200, f"{LC}: {cnt}", True),
         num("accounts_opened_24m", 0, 200, f"{LC}: {cnt}", True),
         num("months_since_last_credit_inquiry", 0, 600, f"{LC}: months, null when no inquiry", True, True),
         num("num_satisfactory_accounts", 0, 200, f"{LC}: {cnt}", True),
         num("num_accounts_120d_past_due", 0, 50, f"{LC}: {cnt}", True, True),
         num("num_accounts_30d_past_due", 0, 50, f"{LC}: {cnt}", True),
         num("num_active_debit_accounts", 0, 200, f"{LC}: {cnt}", True),
         num("total_debit_limit", 0, 10_000_000, f"{LC}: {MONEY}", True),
         num("num_total_cc_accounts", 0, 200, f"{LC}: {cnt}", True),
         num("num_open_cc_accounts", 0, 200, f"{LC}: {cnt}", True),
         num("num_cc_carrying_balance", 0, 200, f"{LC}: {cnt}", True),
         num("num_mort_accounts", 0, 200, f"{LC}: {cnt}", True),
         num("account_never_delinq_percent", 0, 100, f"{LC}: a percentage"),
         num("tax_liens", 0, 100, f"{LC}: count, declared 0-100", True),
         num("public_record_bankrupt", 0, 50, f"{LC}: count, declared 0-50", True),
         cat("loan_purpose", ["car", "credit_card", "debt_consolidation", "educational", "home_improvement", "house",
                              "major_purchase", "medical", "moving", "other", "renewable_energy", "small_business",
                              "vacation", "wedding"], f"{LC}: the 14 loan purposes"),
         cat("application_type", ["individual", "joint"], f"{LC}: help page"),
         num("loan_amount", 1000, 40000, f"{LC}: loans of USD 1,000-40,000 in 2018", True),
         cat("term", [36, 60], f"{LC}: 36- or 60-month terms"),
         num("interest_rate", 0, 40, f"{LC}: percent per year"),
         num("installment", 0, 5000, f"{LC}: monthly payment, {MONEY}"),
         cat("grade", list("ABCDEFG"), f"{LC}: grades A-G", ordered=True),
         cat("sub_grade", [f"{g}{i}" for g in "ABCDEFG" for i in range(1, 6)], f"{LC}: sub-grades A1-G5",
             ordered=True),
         cat("issue_month", ["Jan-2018", "Feb-2018", "Mar-2018"], "help page: loans issued in 2018 Q1"),
         cat("loan_status", ["Current", "Fully Paid", "In Grace Period", "Late (16-30 days)", "Late (31-120 days)",
                             "Charged Off", "Default"], f"{LC}: loan statuses"),
         cat("initial_listing_status", ["whole", "fractional"], f"{LC}: listing status"),
         cat("disbursement_method", ["Cash", "DirectPay"], f"{LC}: disbursement methods"),
         num("balance", 0, 40000, f"{LC}: at most the loan amount"),
         num("paid_total", 0, 100000, f"{LC}: {MONEY}"),
         num("paid_principal", 0, 40000, f"{LC}: at most the loan amount"),
         num("paid_interest", 0, 50000, f"{LC}: {MONEY}"),
         num("paid_late_fees", 0, 5000, f"{LC}: {MONEY}")]
    return doc("loans", "Lending Club loans issued 2018 Q1 (openintro::loans_full_schema).", f, 1_000_000,
               "Lending Club issues well under 10^6 loans a quarter")


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

import Foundation
import XCTest

/// What a correct shop_lake pipeline produces, computed by a small Python script (csv, datetime, decimal) from
/// the raw drops alone: written independently of the transform library and of the generator.
struct ShopExpectation: Decodable {
    struct Fact: Decodable {
        let purchase_id: String, client_id: String, product: String, quantity: Int, amount: Double, purchase_date: String, country: String
    }
    struct Daily: Decodable { let orders: Int, revenue: Double, customers: Int }
    struct Client: Decodable {
        let orders: Int, total_spent: Double, first_purchase: String, last_purchase: String, recency_days: Int, rfm_segment: String
    }
    struct Country: Decodable { let orders: Int, revenue: Double, revenue_share: Double }

    let days: [String]
    let purchases_in: [String: Int]
    let fact_sales: [String: [Fact]]
    let daily_sales: [String: Daily]
    let client_kpis: [String: Client]
    let country_analytics: [String: Country]
    let product_units: [String: Int]
    let signup_dates: [String: [String: String?]]

    /// Over the drops in `data` from `first` to `last`, with the accepted countries of `rules`.
    static func compute(data: String, rules: String, first: String, last: String, scratch: URL) throws -> ShopExpectation {
        let script = scratch.appendingPathComponent("shop_expected.py")
        try python.write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, data, rules, first, last]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let json = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "shop_expected.py failed")
        return try JSONDecoder().decode(ShopExpectation.self, from: json)
    }

    static let python = #"""
# Expected gold tables of shop_lake, computed from the raw drops alone (csv + datetime + decimal), written
# independently of the transform library: argv = data folder, rules.yaml, first day, last day. Prints JSON.
import csv, json, re, sys
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

data, rules_path, first, last = sys.argv[1:5]
rules = open(rules_path, encoding="utf-8").read()
block = rules[rules.index("accepted_values: ["):]
countries = set(re.findall(r'"([A-Z]{2})"', block[:block.index("]")]))
days = sorted(d for d in __import__("os").listdir(data) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) and first <= d <= last)

def rows(path):
    """Header and rows; a line that is not UTF-8 is None (rejected)."""
    lines = open(path, "rb").read().split(b"\r\n")
    header = lines[0].decode().split(",")
    out = []
    for raw in lines[1:]:
        if raw == b"":
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            out.append(None)
            continue
        out.append(dict(zip(header, next(csv.reader([text])))))
    return out

def instant(text):
    """A timestamp as an aware UTC datetime, or None. ISO 8601 (no offset = UTC), else day-first."""
    text = text.strip()
    for parse in (lambda t: datetime.fromisoformat(t),
                  lambda t: datetime.strptime(t, "%d/%m/%Y %H:%M:%S"),
                  lambda t: datetime.strptime(t, "%d/%m/%Y")):
        try:
            value = parse(text)
        except ValueError:
            continue
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
    return None

known = {}            # client id -> country of its latest record
silver_clients = {}   # ds -> {client id: (country, signup UTC date)}
purchases_in = {}
facts = {}
for ds in days:
    kept = {}
    for row in rows(f"{data}/{ds}/clients.csv"):
        if row is None:
            continue
        cid = row["client_id"].strip().upper()
        email = row["email"].strip().lower()
        country = row["country"].strip().upper()
        if not cid or not re.fullmatch(r"[^@ ]+@[^@ ]+\.[a-z]+", email) or country not in countries:
            continue
        signup = row["signup_date"].strip()
        when = instant(signup) if signup else None
        if signup and when is None:
            continue
        kept[cid] = (country, when.date().isoformat() if when else None)
    silver_clients[ds] = kept
    for cid, (country, _) in kept.items():
        known[cid] = country
    day = {}
    count = 0
    for row in rows(f"{data}/{ds}/purchases.csv"):
        count += 1
        if row is None:
            continue
        pid = row["purchase_id"].strip().upper()
        cid = row["client_id"].strip().upper()
        product = row["product"].strip().lower()
        try:
            quantity = int(row["quantity"].strip())
            price = Decimal(row["unit_price"].strip())
        except (ValueError, InvalidOperation):
            continue
        when = instant(row["purchase_date"]) if row["purchase_date"].strip() else None
        if not pid or cid not in known or not product or quantity < 1 or price < 0 or when is None:
            continue
        amount = (quantity * price).quantize(Decimal("0.01"))
        day[pid] = {"purchase_id": pid, "client_id": cid, "product": product, "quantity": quantity,
                    "amount": float(amount), "purchase_date": when.date().isoformat(), "country": known[cid]}
    purchases_in[ds] = count
    facts[ds] = list(day.values())

everything = [f for ds in days for f in facts[ds]]
def money(values):
    return float(sum(Decimal(str(v)) for v in values).quantize(Decimal("0.01")))
daily = {ds: {"orders": len(facts[ds]), "revenue": money(f["amount"] for f in facts[ds]),
              "customers": len({f["client_id"] for f in facts[ds]})} for ds in days}
kpis = {}
end = date.fromisoformat(days[-1])
for f in everything:
    kpis.setdefault(f["client_id"], []).append(f)
client_kpis = {}
for cid, mine in kpis.items():
    lastp = max(f["purchase_date"] for f in mine)
    recency = (end - date.fromisoformat(lastp)).days
    orders = len(mine)
    segment = ("champion" if recency <= 7 and orders >= 3 else "loyal" if orders >= 3 else "recent" if recency <= 7
               else "at_risk" if recency > 30 else "regular")
    client_kpis[cid] = {"orders": orders, "total_spent": money(f["amount"] for f in mine),
                        "first_purchase": min(f["purchase_date"] for f in mine), "last_purchase": lastp,
                        "recency_days": recency, "rfm_segment": segment}
total = sum(Decimal(str(f["amount"])) for f in everything)
by_country = {}
for f in everything:
    by_country.setdefault(f["country"], []).append(f)
country_analytics = {c: {"orders": len(m), "revenue": money(f["amount"] for f in m),
                         "revenue_share": float((100 * sum(Decimal(str(f["amount"])) for f in m) / total).quantize(Decimal("0.01")))}
                     for c, m in by_country.items()}
products = {}
for f in everything:
    products[f["product"]] = products.get(f["product"], 0) + f["quantity"]
print(json.dumps({"days": days, "purchases_in": purchases_in, "fact_sales": facts, "daily_sales": daily,
                  "client_kpis": client_kpis, "country_analytics": country_analytics, "product_units": products,
                  "signup_dates": {ds: {c: v[1] for c, v in kept.items()} for ds, kept in silver_clients.items()}}))
"""#
}

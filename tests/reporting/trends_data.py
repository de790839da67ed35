"""A small random wholesale export for the trend report's tests (seeded, so reproducible)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from handmade import make_export

COUNTRIES = ("FR", "DE", "IT", "ES", "US", "GB", "JP", "BR", "ZZ")
CATEGORIES = ("necklaces", "earrings", "bracelets", "rings", "parures")
COLLECTIONS = ("Aurora", "Lumen", "Nocturne", "Riviera", "Sable", "Tessera")
DEVICES = ("desktop", "mobile", "tablet")


def random_export(
    directory: Path, accounts: int = 120, orders: int = 900, sessions: int = 600, seed: int = 7
) -> Path:
    """Accounts, products, orders with items, and web sessions with consents over 2024."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1)
    account_rows = [
        {
            "account_id": f"ACC-{i:05d}",
            "country": rng.choice(COUNTRIES),
            "company_name": f"Maison Lumiere {i} SARL",
        }
        for i in range(accounts)
    ]
    products = [
        {
            "product_id": f"P{i:03d}",
            "sku": f"SKU{i:03d}",
            "name": f"piece {i}",
            "category": CATEGORIES[i % len(CATEGORIES)],
            "collection": COLLECTIONS[i % len(COLLECTIONS)],
        }
        for i in range(30)
    ]
    order_rows, items = [], []
    for n in range(orders):
        order_id = f"ORD-{n:06d}"
        account = account_rows[
            min(int(rng.paretovariate(1.2)) - 1, accounts - 1) if n % 3 else rng.randrange(accounts)
        ]
        order_rows.append(
            {
                "order_id": order_id,
                "account_id": account["account_id"],
                "order_date": (start + timedelta(days=rng.randrange(366))).date(),
                "status": rng.choice(("placed", "shipped", "delivered", "delivered", "cancelled")),
            }
        )
        for line in range(1, rng.randint(1, 4) + 1):
            product = rng.choice(products)
            items.append(
                {
                    "order_id": order_id,
                    "line_no": line,
                    "product_id": product["product_id"],
                    "quantity": rng.randint(1, 12),
                    "unit_price": Decimal(rng.randrange(2000, 40000)) / 100,
                }
            )
    events, consents = [], []
    for s in range(sessions):
        session = f"S{s:05d}"
        begin = start + timedelta(minutes=rng.randrange(366 * 24 * 60))
        consents.append(
            {
                "consent_id": f"K{s}",
                "session_id": session,
                "recorded_at": begin,
                "analytics": rng.random() < 0.7,
            }
        )
        device = rng.choice(DEVICES)
        for step, p in (("product_view", 0.9), ("add_to_cart", 0.4), ("checkout", 0.15)):
            if rng.random() < p:
                events.append(
                    {
                        "event_id": f"E{len(events)}",
                        "session_id": session,
                        "event_type": step,
                        "occurred_at": begin + timedelta(minutes=len(events) % 7 + 1),
                        "device_type": device,
                        "page": "/p",
                        "tracking_category": "analytics",
                    }
                )
    return make_export(
        directory,
        {
            "accounts": account_rows,
            "products": products,
            "orders": order_rows,
            "order_items": items,
            "web_events": events,
            "cookie_consents": consents,
        },
    )

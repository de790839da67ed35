"""The product catalogue: necklaces, earrings, bracelets, rings and parures in named collections.

Small (hundreds to a few thousand rows), so built row by row; orders sample it by popularity.
``material`` and ``price_band`` are columns the policy's data inventory declares: real-looking
values there are near misses for MIN-UNDECLARED-COLUMN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from privacy_audit.synth import schemas

COLLECTIONS = (
    "Aurora",
    "Riviera",
    "Sakura",
    "Byzantine Gold",
    "Art Deco Revival",
    "Coral Reef",
    "Nordic Frost",
    "Bohème",
    "Midnight Sapphire",
    "Jardin Secret",
    "Sahara Sun",
    "Venetian Glass",
    "Celtic Knot",
    "Lotus",
    "Monaco",
    "Golden Hour",
    "Ocean Pearl",
    "Andalusia",
    "Kyoto Garden",
    "Baroque",
)
CATEGORIES = ("necklaces", "earrings", "bracelets", "rings", "parures")
_CATEGORY_SHARE = (0.26, 0.3, 0.2, 0.19, 0.05)
_NOUNS = {
    "necklaces": ("Pendant Necklace", "Drop Necklace", "Choker", "Lariat", "Collar Necklace"),
    "earrings": ("Stud Earrings", "Hoop Earrings", "Drop Earrings", "Chandelier Earrings", "Ear Cuffs"),
    "bracelets": ("Tennis Bracelet", "Bangle", "Charm Bracelet", "Cuff", "Chain Bracelet"),
    "rings": ("Solitaire Ring", "Signet Ring", "Cocktail Ring", "Eternity Band", "Stacking Ring"),
    "parures": ("Bridal Parure", "Necklace and Earring Set", "Demi-Parure", "Evening Set"),
}
_STONES = (
    "Pearl",
    "Sapphire",
    "Emerald",
    "Topaz",
    "Garnet",
    "Amethyst",
    "Opal",
    "Diamond",
    "Onyx",
    "Moonstone",
)
_STYLES = ("Pavé", "Twisted", "Filigree", "Hammered", "Petite", "Grand", "Halo", "Bezel", "Cluster", "Fine")
MATERIALS = (
    "sterling silver",
    "gold vermeil",
    "9k yellow gold",
    "18k yellow gold",
    "18k white gold",
    "rose gold",
    "platinum",
    "titanium",
)
_MATERIAL_EURO = (18, 30, 70, 180, 190, 120, 320, 25)
_CATEGORY_FACTOR = {"necklaces": 1.3, "earrings": 0.9, "bracelets": 1.1, "rings": 1.0, "parures": 3.2}
_BANDS = ((40, "entry"), (150, "core"), (500, "premium"))


@dataclass
class Catalog:
    """The products table plus what orders need: wholesale price (EUR cents) and popularity."""

    table: pa.Table
    price_cents: np.ndarray
    popularity: np.ndarray

    @property
    def size(self) -> int:
        return self.table.num_rows


def build_catalog(n: int, rng: np.random.Generator) -> Catalog:
    """``n`` products spread over the collections, with SKUs that encode category and collection."""
    category = rng.choice(len(CATEGORIES), n, p=_CATEGORY_SHARE)
    collection = rng.integers(0, len(COLLECTIONS), n)
    material = rng.integers(0, len(MATERIALS), n)
    rows: dict[str, list[str]] = {
        k: [] for k in ("sku", "name", "category", "collection", "material", "price_band")
    }
    prices = np.empty(n, np.int64)
    for i in range(n):
        cat = CATEGORIES[category[i]]
        nouns = _NOUNS[cat]
        name = (
            f"{COLLECTIONS[collection[i]]} {_STYLES[rng.integers(len(_STYLES))]} "
            f"{_STONES[rng.integers(len(_STONES))]} {nouns[rng.integers(len(nouns))]}"
        )
        euro = _MATERIAL_EURO[material[i]] * _CATEGORY_FACTOR[cat] * rng.lognormal(0, 0.35)
        prices[i] = max(int(euro), 10) * 100 - 5  # wholesale prices end in .95
        band = next((b for limit, b in _BANDS if euro < limit), "luxury")
        code = "".join(w[0] for w in COLLECTIONS[collection[i]].split()).upper()
        rows["sku"].append(f"{cat[:2].upper()}-{code}{collection[i]:02d}-{i + 1:05d}-{material[i]}")
        rows["name"].append(name)
        rows["category"].append(cat)
        rows["collection"].append(COLLECTIONS[collection[i]])
        rows["material"].append(MATERIALS[material[i]])
        rows["price_band"].append(band)
    table = pa.table(
        {
            "product_id": schemas.ids("products", 1, n),
            **{k: pa.array(v, pa.string()) for k, v in rows.items()},
        }
    )
    popularity = rng.pareto(1.2, n) + 0.2
    return Catalog(table, prices, popularity / popularity.sum())

"""police.uk crime types and the measure slugs they become.

The slugs are police.uk's own API category ids, so rules can name them in a
measure's ``source:``. ``total-crime`` is every type except anti-social
behaviour, which police.uk publishes beside crimes but which is not a crime.
"""

from __future__ import annotations

__all__ = [
    "ANTI_SOCIAL_BEHAVIOUR",
    "CRIME_TYPES",
    "HISTORIC_CRIME_TYPES",
    "KNOWN_CRIME_TYPES",
    "STANDARD_MEASURES",
    "TOTAL_CRIME",
]

ANTI_SOCIAL_BEHAVIOUR = "anti-social-behaviour"
TOTAL_CRIME = "total-crime"

CRIME_TYPES: dict[str, str] = {
    "Anti-social behaviour": ANTI_SOCIAL_BEHAVIOUR,
    "Bicycle theft": "bicycle-theft",
    "Burglary": "burglary",
    "Criminal damage and arson": "criminal-damage-arson",
    "Drugs": "drugs",
    "Other theft": "other-theft",
    "Possession of weapons": "possession-of-weapons",
    "Public order": "public-order",
    "Robbery": "robbery",
    "Shoplifting": "shoplifting",
    "Theft from the person": "theft-from-the-person",
    "Vehicle crime": "vehicle-crime",
    "Violence and sexual offences": "violent-crime",
    "Other crime": "other-crime",
}
"""The fourteen types police.uk has published since May 2013, name -> slug."""

HISTORIC_CRIME_TYPES: dict[str, str] = {
    "Violent crime": "violent-crime",
    "Public disorder and weapons": "public-disorder-weapons",
}
"""Types of police.uk's early files (2010-2013); counted, and filled with zeros only where seen."""

KNOWN_CRIME_TYPES: dict[str, str] = {**CRIME_TYPES, **HISTORIC_CRIME_TYPES}

STANDARD_MEASURES: tuple[str, ...] = (*sorted(set(CRIME_TYPES.values())), TOTAL_CRIME)
"""Every measure an import of current files writes for each area and month."""

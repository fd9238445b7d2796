"""Answers for other parts of the product that must not know the connector's models.

`is_active` is handed to the Koppelingen catalogue when the app registers (apps.py).
"""


def is_active() -> bool:
    """True when "Koppeling activeren" is ticked; reads without creating the settings row."""
    from .models import DigitaleFactuurSettings

    return DigitaleFactuurSettings.objects.filter(active=True).exists()

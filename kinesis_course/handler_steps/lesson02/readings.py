"""Step 2 of the course's handler: a sensor reading in °F, or InvalidReading; never an invented value."""
import json
import math


class InvalidReading(ValueError):
    """A reading that cannot become a temperature in °F without guessing."""


def normalise(reading: dict) -> dict:
    """A new dict with exactly reading_id, sensor, temperature (°F, 2 decimals), unit ("F") and humidity."""
    for field in ("reading_id", "sensor"):
        if not isinstance(reading.get(field), str) or not reading[field]:
            raise InvalidReading(f"no {field} in {json.dumps(reading)}")
    temperature = reading.get("temperature")
    # bool is a subclass of int in Python; True is not a temperature. json.loads accepts NaN and Infinity.
    if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) or not math.isfinite(temperature):
        raise InvalidReading(f"no finite numeric temperature in {json.dumps(reading)}")
    unit = reading.get("unit")
    if unit == "C":
        fahrenheit = temperature * 9 / 5 + 32
    elif unit == "F":
        fahrenheit = temperature
    else:
        raise InvalidReading(f"unit {unit!r} is neither 'C' nor 'F'")
    return {
        "reading_id": reading["reading_id"],
        "sensor": reading["sensor"],
        "temperature": round(fahrenheit, 2),
        "unit": "F",
        "humidity": reading.get("humidity"),
    }

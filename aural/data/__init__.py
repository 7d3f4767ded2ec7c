"""Data: the catalogue of real recordings, preprocessing, alignment and the phone simulator."""

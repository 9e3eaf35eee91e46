"""MarketPulse: a data-quality-centric lakehouse for market data."""

__version__ = "0.1.0"

"""Watch parties: REST endpoints and the records behind them."""

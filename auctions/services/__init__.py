"""Services of the auctions app, by concern: trades, buyers, bidding, ending (docs/auctions.md)."""

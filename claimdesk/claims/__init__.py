"""The claim itself: its status table and the one mover, corrections, its snapshot,
its wire data, COB and the ledger.
"""

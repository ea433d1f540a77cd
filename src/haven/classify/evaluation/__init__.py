"""Evaluation of Haven's detectors on a synthetic, non-graphic, labelled set written for Haven."""

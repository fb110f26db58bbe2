"""Scanned-document cleaning data: clean page rendering, degradation, real pairs, OCR scoring."""

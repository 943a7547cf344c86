// Placeholder: filled in by the Numpy reader.

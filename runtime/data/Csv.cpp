// Placeholder: filled in by the Csv reader.

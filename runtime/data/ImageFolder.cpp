// Placeholder: filled in by the ImageFolder reader.

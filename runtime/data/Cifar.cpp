// Placeholder: filled in by the Cifar reader.

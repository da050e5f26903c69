package admission

// DecodedBytes is decodedBytes, for the memory benchmark.
var DecodedBytes = decodedBytes

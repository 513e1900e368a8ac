// TesseraIO: reading and writing what researchers have — safetensors and GGUF weights, HF model
// folders, tokenizers and datasets. Imports only the tensor engine and the NN layer.

import TesseraTensor

/// The version written into the `__metadata__` of files Tessera saves.
public let tesseraFormatVersion = "1"

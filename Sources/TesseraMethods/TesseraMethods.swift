// TesseraMethods: the research methods Tessera exists for — sparse fine-tuning (SparseDiff,
// LT-SFT, SpIEL), LoRA/QLoRA, adapters (MAD-X, BAD-X, TLR), BiStil and PolyLM — built on the
// tensor engine, the NN layer and the readers (specs: ../shared/methods/*.md).

import TesseraTensor

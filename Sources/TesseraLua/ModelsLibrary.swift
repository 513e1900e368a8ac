// ModelsLibrary: the `models` Lua library: pretrained checkpoints (Hugging Face folders and GGUF
// files) loaded into Tessera's models (TesseraIO/Models).

import CLua
import LuaShim
import TesseraIO
import TesseraNN
import TesseraTensor

extension LuaRuntime {
    func openModelsLibrary() {
        lua_createtable(L, 0, 4)
        let lib = LibraryBuilder(self, prefix: "models", qualifiedErrors: true)
        Help.addTopic(
            "models",
            """
            models: pretrained checkpoints into Tessera's models. models.load(path) reads a
            Hugging Face folder (config.json + model.safetensors: BERT, XLM-R, LLaMA) or a
            llama.cpp .gguf file (LLaMA family, e.g. SmolLM2), offline. scripts/fetch-assets
            puts real ones under assets/ (MiniLM, SmolLM2, multilingual e5).
            """)
        lib.def(
            "load", "models.load(path [, {architecture=, num_labels=, quantized=}]) -> model, tokenizer, info",
            "Loads a pretrained model; returns the model (in eval mode), its tokenizer and a table describing the load.",
            details: """
                path: a folder with config.json and model.safetensors (or sharded
                model.safetensors.index.json), or a .gguf file. The architecture comes from
                config.json (architectures[1]) unless given: e.g. {architecture =
                "BertForTokenClassification", num_labels = 9} puts a new head on a base
                checkpoint. Checkpoint names are mapped to Tessera's (roberta.* and lm_head.* of
                XLM-R; blk.N.* of GGUF, whose query/key rows are reordered for Hugging Face's
                rotary layout). The tokenizer is the folder's tokenizer.json or vocab.txt, or the
                one inside the GGUF / e5 file (nil when there is none; see tokenizers.load). The
                third result is {architecture=, seconds=, loaded=, missing={...},
                unexpected={...}, mis_shaped={...}}: names in missing start from random weights
                (e.g. a new head). quantized = true (GGUF): the attention and MLP projections
                stay in their 4/5/6/8-bit blocks as QuantizedLinear layers, dequantised a tile at a
                time inside each product (about 6x less memory; frozen, gradients reach inputs).
                """,
            example:
                "-- a checkpoint written with safetensors.save, then loaded as a model\nlocal dir = os.tmpname(); os.remove(dir); os.execute('mkdir ' .. dir)\nlocal config = {model_type = 'bert', architectures = {'BertModel'}, vocab_size = 30, hidden_size = 8,\n  num_hidden_layers = 1, num_attention_heads = 2, intermediate_size = 16}\nlocal f = io.open(dir .. '/config.json', 'w')\nf:write('{\"model_type\": \"bert\", \"architectures\": [\"BertModel\"], \"vocab_size\": 30, \"hidden_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"intermediate_size\": 16}'); f:close()\nsafetensors.save(dir .. '/model.safetensors', nn.Encoder(config):state_dict())\nlocal m, tok, info = models.load(dir)\nprint(m:type(), tok, info.architecture, #info.missing, #info.unexpected)"
        ) { s in
            let path = try s.checkString(1, "models.load")
            let opts = try s.options(2, "models.load", allowed: ["architecture", "num_labels", "quantized"])
            let loaded = try Pretrained.load(
                path, architecture: try opts.string("architecture"), numLabels: try opts.int("num_labels"),
                quantized: try opts.bool("quantized") ?? false)
            s.push(loaded.module)
            let L = s.L
            if let tokenizer = try Pretrained.tokenizer(for: path) { s.push(tokenizer) } else { lua_pushnil(L) }
            lua_createtable(L, 0, 6)
            s.push(loaded.architecture)
            lua_setfield(L, -2, "architecture")
            s.push(loaded.seconds)
            lua_setfield(L, -2, "seconds")
            s.push(loaded.report.loaded.count)
            lua_setfield(L, -2, "loaded")
            for (key, names) in [
                ("missing", loaded.report.missing), ("unexpected", loaded.report.unexpected),
                ("mis_shaped", loaded.report.misShaped.map { "\($0.name): expected \($0.expected), got \($0.got)" }),
            ] {
                lua_createtable(L, Int32(names.count), 0)
                for (k, n) in names.sorted().enumerated() {
                    s.push(n)
                    lua_rawseti(L, -2, lua_Integer(k + 1))
                }
                lua_setfield(L, -2, key)
            }
            return 3
        }
        lua_setglobal(L, "models")
    }
}

// LoRALibrary: the `lora` Lua library: LoRA / QLoRA (Hu et al. 2021; Dettmers et al. 2023) on a
// model's target layers, merging, Hugging Face peft's adapter directory layout both ways, and
// NF4 quantisation of a model's linear layers (QLoRA's 4-bit base, also usable under SpIEL).

import CLua
import LuaShim
import TesseraMethods
import TesseraNN
import TesseraTensor

let loraMetatableName = "tessera.LoRA"
let loraMethodsName = "tessera.LoRA.methods"
nonisolated(unsafe) let loraMetatableKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
nonisolated(unsafe) let loraMethodsKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

extension LuaStack {
    func checkLoRA(_ i: Int32, _ fn: String) throws -> LoRAModel {
        guard let l = retainedObject(at: i, metatable: loraMetatableKey, as: LoRAModel.self) else {
            throw LuaError.argument(i, fn, "LoRA handle (from lora.wrap) expected, got \(typeName(i))")
        }
        return l
    }

    func push(_ l: LoRAModel) { pushRetained(l, metatable: loraMetatableKey) }
}

private let loraExampleSetup = """
    tensor.manual_seed(0)
    local config = {vocab_size = 16, hidden_size = 8, num_hidden_layers = 1, num_attention_heads = 2,
      intermediate_size = 16, max_position_embeddings = 16}
    local m = nn.DecoderForCausalLM(config)
    local a = lora.wrap(m, {r = 2, alpha = 16})

    """

extension LuaRuntime {
    func openLoRALibrary() {
        openLoRAMetatable()
        lua_createtable(L, 0, 4)
        let lib = LibraryBuilder(self, prefix: "lora", qualifiedErrors: true)
        Help.addTopic(
            "lora",
            """
            lora: low-rank adapters. lora.wrap replaces each target linear layer by base(x) + B A x · alpha/r
            (A Kaiming-uniform, B zero, so the model starts unchanged); train with optim.AdamW(model) and
            nn.fit. Over a 4-bit base (models.load(path, {quantized=true}) or lora.quantize) it is QLoRA.
            a:save(dir) / lora.load(dir, model) use peft's adapter_config.json + adapter_model.safetensors.
            """)
        lib.def(
            "wrap", "lora.wrap(model, {r= [, alpha=, dropout=, rslora=, targets=, seed=]})",
            "Puts LoRA adapters on the model's target linear layers (everything else frozen); returns a LoRA handle.",
            details: """
                r: rank (default 8); alpha (default r): scaling alpha/r, or alpha/√r with rslora = true;
                dropout on the adapter's input (default 0; the SpIEL paper's baselines use 0.1); targets: module
                names or globs (default the LLaMA projections).
                """,
            example: loraExampleSetup + "print(a:count())"
        ) { s in
            let fn = "lora.wrap"
            let model = try s.checkModule(1, fn)
            let opts = try s.options(2, fn, allowed: ["r", "alpha", "dropout", "rslora", "seed"], raw: ["targets"])
            let r = try opts.int("r") ?? 8
            let config = LoRAConfig(
                rank: r, alpha: try opts.number("alpha") ?? Double(r), dropout: try opts.number("dropout") ?? 0,
                useRSLoRA: try opts.bool("rslora") ?? false, targets: try s.targetModules(2, fn).names)
            let generator = try opts.int("seed").map { Generator(seed: UInt64(truncatingIfNeeded: $0)) } ?? .shared
            s.push(try LoRAModel(wrapping: model, config: config, generator: generator))
            return 1
        }
        lib.def(
            "load", "lora.load(dir, model)",
            "Reads a peft LoRA adapter directory (adapter_config.json, adapter_model.safetensors) onto the model; returns a LoRA handle.",
            example: loraExampleSetup + """
                local dir = os.tmpname()
                os.remove(dir)
                a:save(dir)
                local b = lora.load(dir, nn.DecoderForCausalLM(config))
                print(b:count() == a:count())
                os.remove(dir .. "/adapter_config.json"); os.remove(dir .. "/adapter_model.safetensors"); os.remove(dir)
                """
        ) { s in
            s.push(try LoRAModel.load(from: try s.checkString(1, "lora.load"), into: try s.checkModule(2, "lora.load")))
            return 1
        }
        lib.def(
            "quantize", "lora.quantize(model [, {targets=}])",
            "Replaces the target Linear layers by NF4 ones (4-bit NormalFloat, block 64, double quantisation: QLoRA's base); returns the paths.",
            example: """
                tensor.manual_seed(0)
                local m = nn.Sequential{nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2)}
                print(#lora.quantize(m, {targets = {"0"}}), m)
                """
        ) { s in
            let fn = "lora.quantize"
            let model = try s.checkModule(1, fn)
            _ = try s.options(2, fn, allowed: [], raw: ["targets"])
            s.push(strings: try model.quantizeNF4(targets: try s.targetModules(2, fn)))
            return 1
        }
        lua_setglobal(L, "lora")
    }

    private func openLoRAMetatable() {
        newRetainedMetatable(loraMetatableName, key: loraMetatableKey, shownAs: "LoRA")
        setFunction("__tostring", qualifiedName: "tostring") { s in
            let l = try s.checkLoRA(1, "tostring")
            s.push("LoRA(r: \(l.config.rank), alpha: \(l.config.alpha), \(l.layers.count) layers, \(l.trainableCount) trainable)")
            return 1
        }
        setMethodIndex(methodsKey: loraMethodsKey, qualifiedName: "index") { s in s.pushNil() }
        lua_settop(L, -2)
        openMethodTable(key: loraMethodsKey, registryName: loraMethodsName) { openLoRAMethods() }
    }

    private func openLoRAMethods() {
        let m = LibraryBuilder(self, prefix: "LoRA", methods: true)
        Help.addTopic("LoRA", "LoRA methods (the handle lora.wrap returns), called as a:name(...).")
        m.def("count", "a:count()", "Trainable parameters: Σ r·(in + out).", example: loraExampleSetup + "print(a:count())") { s in
            s.push(try s.checkLoRA(1, "count").trainableCount)
            return 1
        }
        m.def(
            "state_bytes", "a:state_bytes()", "Bytes of trainable state with AdamW: A, B and two moments, 12 per parameter.",
            example: loraExampleSetup + "print(a:state_bytes())"
        ) { s in
            s.push(12 * (try s.checkLoRA(1, "state_bytes").trainableCount))
            return 1
        }
        m.def(
            "merge", "a:merge()", "Replaces every LoRA layer by a Linear holding W0 + B A · scaling; returns the model.",
            example: loraExampleSetup + "print(a:merge() == m)"
        ) { s in
            s.push(try s.checkLoRA(1, "merge").mergeAndUnload())
            return 1
        }
        m.def(
            "save", "a:save(dir [, base_model])",
            "Writes peft's layout: dir/adapter_config.json and dir/adapter_model.safetensors (keys base_model.model.<path>.lora_A.weight, ...).",
            example: loraExampleSetup
                + "local dir = os.tmpname()\nos.remove(dir)\na:save(dir)\nos.remove(dir .. \"/adapter_config.json\"); os.remove(dir .. \"/adapter_model.safetensors\"); os.remove(dir)"
        ) { s in
            let l = try s.checkLoRA(1, "save")
            let dir = try s.checkString(2, "save")
            let base = s.isNoneOrNil(3) ? "" : try s.checkString(3, "save")
            try l.save(to: dir, baseModel: base)
            return 0
        }
    }
}

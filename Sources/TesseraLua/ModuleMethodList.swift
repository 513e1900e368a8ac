// ModuleMethodList: every `Module:` method with its help entry. Tensor names are the dotted names
// of the module tree (`encoder.layer.0.attention.self.query.weight`), as Hugging Face checkpoints
// spell them, so numbered layers count from 0 there: they are names, not Lua indices.

import CLua
import LuaShim
import TesseraNN
import TesseraTensor

extension LuaRuntime {
    func openModuleMethods() {
        let m = LibraryBuilder(self, prefix: "Module", methods: true)
        Help.addTopic(
            "Module",
            """
            Module methods, called as m:name(...), shared by every layer and model (nn.Linear,
            nn.Encoder, ...). m(x, ...) runs the forward pass (help("Module:forward")); m.child
            is a direct submodule. Parameters are named by dotted paths as in Hugging Face
            checkpoints, so numbered layers count from 0 (encoder.layer.0): they are names.
            Tensors returned by parameters() and state_dict() share memory with the module.
            """)
        let example = "tensor.manual_seed(0)\nlocal m = nn.Sequential{nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)}\n"

        m.def(
            "forward", "m:forward(x [, options]) or m(x [, options])", "Runs the module on x and returns its output.",
            details: """
                Plain layers take one tensor. nn.MultiHeadAttention takes x (B, T, dim) and
                {attention_mask=, causal=, return_probabilities=} and returns the output (and the
                probabilities (B, heads, T, T) when asked for). Encoders and decoders take token ids
                (B, T) (integer, 0-based as in the model's vocabulary) and {attention_mask=,
                token_type_ids= (encoders), return_attentions=}; nn.Encoder and nn.Decoder return a
                table {last_hidden_state=, hidden_states={...}, attentions={...}, pooled=}, the
                models with a head return the logits and that table. attention_mask marks real
                tokens with 1 (as Hugging Face's).
                """,
            example: example + "print(m(tensor.randn(3, 4)):shape()[2], m:forward(tensor.randn(1, 4)):shape()[2])"
        ) { s in
            try moduleForward(s)
        }
        m.def(
            "parameters", "m:parameters()", "Every parameter as a table name -> tensor (frozen ones too).",
            details: "The tensors are the module's own: changing one in place changes the module.",
            example: example + "for name, p in pairs(m:parameters()) do print(name, p:numel()) end"
        ) { s in
            s.push(tensors: try s.checkModule(1, "parameters").namedParameters())
            return 1
        }
        m.def(
            "named_parameters", "m:named_parameters()", "Every parameter as a list of {name, tensor}, sorted by name.",
            example: example + "for _, np in ipairs(m:named_parameters()) do print(np[1], np[2]:dim()) end"
        ) { s in
            let ps = try s.checkModule(1, "named_parameters").namedParameters().sorted { $0.name < $1.name }
            lua_createtable(s.L, Int32(ps.count), 0)
            for (k, p) in ps.enumerated() {
                lua_createtable(s.L, 2, 0)
                s.push(p.name)
                lua_rawseti(s.L, -2, 1)
                s.push(p.tensor)
                lua_rawseti(s.L, -2, 2)
                lua_rawseti(s.L, -2, lua_Integer(k + 1))
            }
            return 1
        }
        m.def(
            "trainable_parameters", "m:trainable_parameters()", "The parameters that are not frozen, as a table name -> tensor.",
            example: example + "m:freeze('0')\nfor name in pairs(m:trainable_parameters()) do print(name) end"
        ) { s in
            s.push(tensors: try s.checkModule(1, "trainable_parameters").trainableParameters())
            return 1
        }
        for (name, on) in [("freeze", false), ("unfreeze", true)] {
            m.def(
                name, "m:\(name)([pattern])",
                on
                    ? "Makes the parameters matching pattern train again; returns their names."
                    : "Stops the parameters matching pattern from training; returns their names.",
                details: """
                    pattern is a glob over dotted names (* any characters, ? one) and also selects
                    everything under a matching module path; the default "*" selects all. A pattern
                    that selects nothing is an error (usually a misspelt name). Frozen parameters get
                    no gradient, so optimizers leave them unchanged.
                    """,
                example: example + "print(table.concat(m:\(name)('2'), ', '))"
            ) { s in
                let mod = try s.checkModule(1, name)
                let pattern = s.isNoneOrNil(2) ? "*" : try s.checkString(2, name)
                s.push(names: on ? try mod.unfreeze(pattern) : try mod.freeze(pattern))
                return 1
            }
        }
        m.def(
            "num_parameters", "m:num_parameters([trainable_only])", "Number of parameter elements (only the trainable ones when asked).",
            example: example + "m:freeze('0')\nprint(m:num_parameters(), m:num_parameters(true))"
        ) { s in
            let mod = try s.checkModule(1, "num_parameters")
            s.push(try s.optBool(2, "num_parameters", false) ? mod.trainableParameterCount : mod.parameterCount)
            return 1
        }
        m.def(
            "state_dict", "m:state_dict()", "Parameters and buffers as a table name -> tensor.",
            details: "The tensors are the module's own (as torch's state_dict); clone them to keep a snapshot.",
            example: example + "local sd = m:state_dict()\nprint(sd['0.weight']:shape()[1])"
        ) { s in
            let sd = try s.checkModule(1, "state_dict").stateDict()
            s.push(tensors: sd.keys.sorted().map { ($0, sd[$0]!) })
            return 1
        }
        m.def(
            "load_state_dict", "m:load_state_dict(dict [, {strict=}])",
            "Copies the tensors of dict into the module's tensors of the same names; returns a report.",
            details: """
                The report is {loaded={names}, missing={names}, unexpected={names},
                mismatched={{name=, expected={sizes}, got={sizes}}, ...}}. With strict (the default)
                any missing, unexpected or mismatched name is an error and nothing is copied;
                with strict=false the fitting tensors are copied. Dtypes convert.
                """,
            example: example
                + "local copy = {}\nfor k, v in pairs(m:state_dict()) do copy[k] = v:clone() end\nlocal r = m:load_state_dict(copy)\nprint(#r.loaded, #r.missing)"
        ) { s in
            let mod = try s.checkModule(1, "load_state_dict")
            let dict = try s.tensorDictionary(2, "load_state_dict")
            let opts = try s.options(3, "load_state_dict", allowed: ["strict"])
            let report = try mod.loadStateDict(dict, strict: try opts.bool("strict") ?? true)
            lua_createtable(s.L, 0, 4)
            for (key, names) in [("loaded", report.loaded), ("missing", report.missing), ("unexpected", report.unexpected)] {
                s.push(names: names)
                lua_setfield(s.L, -2, key)
            }
            lua_createtable(s.L, Int32(report.misShaped.count), 0)
            for (k, bad) in report.misShaped.enumerated() {
                lua_createtable(s.L, 0, 3)
                s.push(bad.name)
                lua_setfield(s.L, -2, "name")
                s.push(bad.expected)
                lua_setfield(s.L, -2, "expected")
                s.push(bad.got)
                lua_setfield(s.L, -2, "got")
                lua_rawseti(s.L, -2, lua_Integer(k + 1))
            }
            lua_setfield(s.L, -2, "mismatched")
            return 1
        }
        for (name, on) in [("train", true), ("eval", false)] {
            m.def(
                name, "m:\(name)()",
                on
                    ? "Training mode for the whole tree (dropout active); returns m."
                    : "Evaluation mode for the whole tree (dropout is the identity); returns m.",
                example: example + "print(m:\(name)():is_training())"
            ) { s in
                try s.checkModule(1, name).train(on)
                lua_settop(s.L, 1)
                return 1
            }
        }
        m.def(
            "is_training", "m:is_training()", "Whether m is in training mode.",
            example: "print(nn.Dropout(0.1):eval():is_training())"
        ) { s in
            s.push(try s.checkModule(1, "is_training").training)
            return 1
        }
        m.def(
            "module", "m:module(path)", "The submodule at a dotted path (\"\" is m itself).",
            example: example + "print(m:module('2'))"
        ) { s in
            let mod = try s.checkModule(1, "module")
            let path = try s.checkString(2, "module")
            guard let sub = mod.module(at: path) else {
                throw LuaError.argument(2, "module", "no submodule '\(path)' in \(mod.typeName)")
            }
            s.push(sub)
            return 1
        }
        m.def(
            "named_modules", "m:named_modules()", "The dotted names of m (\"\") and every submodule, depth first.",
            example: example + "print(table.concat(m:named_modules(), ', '))"
        ) { s in
            s.push(names: try s.checkModule(1, "named_modules").namedModules().map(\.name))
            return 1
        }
        m.def(
            "replace", "m:replace(path, module)", "Puts module where the submodule at path was (wrapping a layer); returns the old one.",
            example: example + "local old = m:replace('1', nn.GELU())\nprint(old, m:module('1'))"
        ) { s in
            let mod = try s.checkModule(1, "replace")
            let path = try s.checkString(2, "replace")
            let new = try s.checkModule(3, "replace")
            s.push(try mod.replaceModule(at: path, with: new))
            return 1
        }
        m.def(
            "add_hook", "m:add_hook(pattern, function(name, output) ... end)",
            "Calls the function after the forward pass of every submodule whose dotted name matches pattern; returns a handle.",
            details: """
                pattern is a glob matched against whole names ("" is m itself, "*" every module,
                "0" the first child of a Sequential). The function gets the module's name and
                output tensor; its errors stop the forward pass. handle:remove() detaches it.
                """,
            example: example + "local h = m:add_hook('*', function(name, y) print(name, y:shape()[2]) end)\nm(tensor.randn(1, 4))\nh:remove()"
        ) { s in
            try self.addHook(s)
        }
        m.def(
            "zero_grad", "m:zero_grad()", "Clears the gradient of every parameter.",
            example: example + "m(tensor.randn(2, 4)):sum():backward()\nm:zero_grad()\nprint(m:module('0'):parameters().weight.grad)"
        ) { s in
            try s.checkModule(1, "zero_grad").zeroGrad()
            return 0
        }
        m.def("type", "m:type()", "The layer class name (\"Linear\").", example: "print(nn.Linear(2, 3):type())") { s in
            s.push(try s.checkModule(1, "type").typeName)
            return 1
        }
        m.def(
            "to", "m:to(dtype)", "Converts every parameter and buffer to dtype (\"f32\" or \"f64\"); returns m.",
            details: "Frozen parameters stay frozen; optimizers built before hold the old tensors, so build them after.",
            example: "print(nn.Linear(2, 3):to('f64'):parameters().weight:dtype())"
        ) { s in
            let mod = try s.checkModule(1, "to")
            let name = try s.checkString(2, "to")
            guard let dt = DType(rawValue: name), dt.isFloatingPoint else {
                throw LuaError.argument(2, "to", "floating-point dtype expected (\"f32\" or \"f64\"), got \"\(name)\"")
            }
            try mod.to(dt)
            lua_settop(s.L, 1)
            return 1
        }
        openGenerateMethod(m)
    }
}

// TensorLibrary: the `tensor` Lua library (constructors, RNG, grad mode, joins). Dimensions and
// indices are 1-based here and converted at this boundary; the engine below is 0-based.

import CLua
import LuaShim
import TesseraTensor

extension LuaRuntime {
    func openTesseraLibraries() throws {
        lua_createtable(L, 0, 0)
        lua_setfield(L, luashim_registryindex(), helpNamesKey)
        openTensorMetatable()
        openTensorLibrary()
        openModuleMetatable()
        openNNLibrary()
        openOptimizerMetatable()
        openOptimLibrary()
        openMaskingFunctions()
        openFitFunction()
        openMetricsLibrary()
        openProgressLibrary()
        openDataLibrary()
        openModelsLibrary()
        openSFTLibrary()
        openSpielLibrary()
        openWeightsLibraries()
        openTokenizersLibrary()
        openHelp()
    }

    /// `dtype` and `requires_grad` from an options table, applied to a freshly made tensor
    func finishNew(_ s: LuaStack, _ t: Tensor, _ opts: LuaOptions) throws -> Int32 {
        if try opts.bool("requires_grad") == true { try t.requiresGrad(true) }
        s.push(t)
        return 1
    }

    private func openTensorLibrary() {
        lua_createtable(L, 0, 64)
        let lib = LibraryBuilder(self, prefix: "tensor")
        Help.addTopic(
            "tensor",
            """
            tensor: n-dimensional arrays of f32 (default), f64, i32, i64 or bool, with reverse-mode
            autograd, computed in Swift on OpenBLAS. Dimensions and indices count from 1 (negative
            ones from the end). Options go in a table: tensor.zeros(2, 3, {dtype = "f64"}).
            Methods are listed under Tensor: (help("Tensor") or ?Tensor).
            """)
        let newOpts = ["dtype", "requires_grad"]

        func sized(
            _ name: String, _ summary: String, _ example: String,
            _ make: @escaping ([Int], DType, LuaOptions, LuaStack) throws -> Tensor
        ) {
            lib.def(
                name, "tensor.\(name)(d1, d2, ... | {d1, d2, ...} [, {dtype=, requires_grad=}])", summary,
                example: example
            ) { s in
                let (sizes, next) = try s.sizes(from: 1, "tensor.\(name)")
                let opts = try s.options(next, "tensor.\(name)", allowed: newOpts)
                return try self.finishNew(s, try make(sizes, try opts.dtype() ?? .f32, opts, s), opts)
            }
        }
        sized("zeros", "A tensor of zeros.", "print(tensor.zeros(2, 3))") { sz, dt, _, _ in try Tensor.zeros(sz, dtype: dt) }
        sized("ones", "A tensor of ones.", "print(tensor.ones({2, 2}, {dtype = \"i64\"}))") { sz, dt, _, _ in try Tensor.ones(sz, dtype: dt) }
        sized("rand", "Uniform samples in [0, 1).", "tensor.manual_seed(1)\nprint(tensor.rand(2, 3))") { sz, dt, _, _ in
            try Tensor.rand(sz, dtype: dt)
        }
        sized(
            "randn", "Samples from the standard normal distribution.",
            "tensor.manual_seed(1)\nlocal x = tensor.randn(1000)\nprint(x:mean():item(), x:var():item())"
        ) { sz, dt, _, _ in
            try Tensor.randn(sz, dtype: dt)
        }
        lib.def(
            "full", "tensor.full({d1, d2, ...}, value [, {dtype=, requires_grad=}])", "A tensor filled with one value.",
            example: "print(tensor.full({2, 2}, 7))"
        ) { s in
            let sizes = try s.intSequence(1, "tensor.full")
            let v = try s.checkNumber(2, "tensor.full")
            let opts = try s.options(3, "tensor.full", allowed: newOpts)
            return try self.finishNew(s, try Tensor.full(sizes, v, dtype: try opts.dtype() ?? .f32), opts)
        }
        lib.def(
            "arange", "tensor.arange([start,] stop [, step] [, {dtype=}])",
            "Values from start (default 0) up to but excluding stop, by step (as torch.arange).",
            details: "Integral arguments give i64 values; any fractional one gives f32.\nFor Lua-style 1..n use tensor.arange(1, n + 1).",
            example: "print(tensor.arange(5))\nprint(tensor.arange(1, 2, 0.25))"
        ) { s in
            var nums: [Double] = []
            var i: Int32 = 1
            while nums.count < 3, let d = s.number(at: i) { nums.append(d); i += 1 }
            let opts = try s.options(i, "tensor.arange", allowed: newOpts)
            guard !nums.isEmpty else { throw LuaError.argument(1, "tensor.arange", "number expected, got \(s.typeName(1))") }
            let (start, stop, step) = nums.count == 1 ? (0, nums[0], 1) : (nums[0], nums[1], nums.count > 2 ? nums[2] : 1)
            let integral = nums.allSatisfy { $0 == $0.rounded() }
            let dt = try opts.dtype() ?? (integral ? .i64 : .f32)
            return try self.finishNew(s, try Tensor.arange(start, stop, step: step, dtype: dt), opts)
        }
        lib.def(
            "linspace", "tensor.linspace(start, stop, count [, {dtype=}])", "count evenly spaced values from start to stop, both included.",
            example: "print(tensor.linspace(0, 1, 5))"
        ) { s in
            let a = try s.checkNumber(1, "tensor.linspace"), b = try s.checkNumber(2, "tensor.linspace")
            let n = try s.checkInt(3, "tensor.linspace")
            let opts = try s.options(4, "tensor.linspace", allowed: newOpts)
            return try self.finishNew(s, try Tensor.linspace(a, b, count: n, dtype: try opts.dtype() ?? .f32), opts)
        }
        lib.def(
            "eye", "tensor.eye(n [, m] [, {dtype=}])", "The n×m identity matrix (m defaults to n).",
            example: "print(tensor.eye(3))"
        ) { s in
            let n = try s.checkInt(1, "tensor.eye")
            let m = s.number(at: 2) != nil ? try s.checkInt(2, "tensor.eye") : n
            let opts = try s.options(s.number(at: 2) != nil ? 3 : 2, "tensor.eye", allowed: newOpts)
            return try self.finishNew(s, try Tensor.eye(n, m, dtype: try opts.dtype() ?? .f32), opts)
        }
        lib.def(
            "from", "tensor.from(table [, {dtype=, requires_grad=}])",
            "A tensor from a number or a nested table of numbers (or booleans).",
            details: "Numbers give f32 unless dtype says otherwise; a table of booleans gives bool.",
            example: "local x = tensor.from{{1, 2}, {3, 4}}\nprint(x, x:shape()[1])"
        ) { s in
            let opts = try s.options(2, "tensor.from", allowed: newOpts)
            let dt = try opts.dtype()
            if let d = s.number(at: 1) { return try self.finishNew(s, try Tensor.scalar(d, dtype: dt ?? .f32), opts) }
            guard lua_type(s.L, 1) == LUA_TTABLE else {
                throw LuaError.argument(1, "tensor.from", "table or number expected, got \(s.typeName(1))")
            }
            return try self.finishNew(s, try s.tensorFromTable(1, "tensor.from", dtype: dt), opts)
        }
        lib.alias("tensor", "from")
        lib.def(
            "randint", "tensor.randint(low, high, {d1, d2, ...} [, {dtype=}])", "Integers uniform in [low, high] (both included, as math.random).",
            example: "tensor.manual_seed(3)\nprint(tensor.randint(1, 6, {10}))"
        ) { s in
            let lo = try s.checkInt(1, "tensor.randint"), hi = try s.checkInt(2, "tensor.randint")
            let sizes = try s.intSequence(3, "tensor.randint")
            let opts = try s.options(4, "tensor.randint", allowed: newOpts)
            guard hi >= lo, hi < Int.max else { throw LuaError.argument(2, "tensor.randint", "high must be at least low") }
            return try self.finishNew(s, try Tensor.randint(lo, hi + 1, sizes, dtype: try opts.dtype() ?? .i64), opts)
        }
        lib.def(
            "randperm", "tensor.randperm(n)", "A random permutation of 1..n (i64).",
            example: "tensor.manual_seed(0)\nprint(tensor.randperm(5))"
        ) { s in
            let n = try s.checkInt(1, "tensor.randperm")
            s.push(try Tensor.randperm(n).add(1))
            return 1
        }
        lib.def(
            "manual_seed", "tensor.manual_seed(n)", "Seeds the generator: the same seed gives bit-identical samples.",
            example: "tensor.manual_seed(42)\nlocal a = tensor.randn(3)\ntensor.manual_seed(42)\nprint(tensor.randn(3):eq(a):all())"
        ) { s in
            let n = try s.checkInt(1, "tensor.manual_seed")
            manualSeed(UInt64(bitPattern: Int64(n)))
            return 0
        }
        lib.def(
            "no_grad", "tensor.no_grad(f, ...)", "Calls f(...) without recording gradients and returns its results.",
            example: "local w = tensor.ones(3):requires_grad(true)\nlocal y = tensor.no_grad(function() return w * 2 end)\nprint(y:requires_grad())"
        ) { s in
            guard lua_type(s.L, 1) == LUA_TFUNCTION else { throw LuaError.argument(1, "tensor.no_grad", "function expected, got \(s.typeName(1))") }
            let nargs = s.count - 1
            let status = noGrad { luashim_pcall(s.L, nargs, LUA_MULTRET, 0) }
            if status != LUA_OK { throw LuaCalleeError() }
            return s.count
        }
        lib.def(
            "is_tensor", "tensor.is_tensor(v)", "Whether v is a tensor.", example: "print(tensor.is_tensor(tensor.zeros(1)), tensor.is_tensor(1))"
        ) { s in
            s.push(s.tensor(at: 1) != nil)
            return 1
        }
        func join(_ name: String, _ summary: String, _ example: String, _ f: @escaping ([Tensor], Int) throws -> Tensor) {
            lib.def(name, "tensor.\(name)({t1, t2, ...} [, dim])", summary, example: example) { s in
                guard lua_type(s.L, 1) == LUA_TTABLE, s.tensor(at: 1) == nil else {
                    throw LuaError.argument(1, "tensor.\(name)", "table of tensors expected, got \(s.typeName(1))")
                }
                var ts: [Tensor] = []
                for k in 1...max(1, Int(lua_rawlen(s.L, 1))) where k <= Int(lua_rawlen(s.L, 1)) {
                    lua_rawgeti(s.L, 1, lua_Integer(k))
                    defer { lua_settop(s.L, -2) }
                    guard let t = s.tensor(at: -1) else {
                        throw LuaError.argument(1, "tensor.\(name)", "element \(k) is a \(s.typeName(-1)), not a tensor")
                    }
                    ts.append(t)
                }
                let d = s.isNoneOrNil(2) ? 0 : try s.checkDim(2, "tensor.\(name)")
                s.push(try f(ts, d))
                return 1
            }
        }
        join(
            "cat", "Tensors joined along an existing dimension (default 1).",
            "print(tensor.cat({tensor.ones(1, 2), tensor.zeros(2, 2)}))"
        ) { try Tensor.cat($0, dim: $1) }
        join(
            "stack", "Tensors of one shape stacked along a new dimension (default 1).",
            "print(tensor.stack({tensor.ones(2), tensor.zeros(2)}, 2))"
        ) { try Tensor.stack($0, dim: $1) }
        lib.def(
            "where", "tensor.where(cond, a, b)", "Elementwise cond ? a : b (a and b may be numbers); broadcasts.",
            example: "local x = tensor.from{-1, 2, -3}\nprint(tensor.where(x:gt(0), x, 0))"
        ) { s in
            let c = try s.checkTensor(1, "tensor.where")
            let a = try s.checkTensorLike(2, "tensor.where"), b = try s.checkTensorLike(3, "tensor.where")
            s.push(try Tensor.where(c, a, b))
            return 1
        }
        for (name, f) in [
            ("zeros_like", { (t: Tensor) in try t.zerosLike() }), ("ones_like", { try $0.onesLike() }),
            ("rand_like", { try Tensor.rand($0.shape, dtype: $0.dtype.isFloatingPoint ? $0.dtype : .f32) }),
            ("randn_like", { try Tensor.randn($0.shape, dtype: $0.dtype.isFloatingPoint ? $0.dtype : .f32) }),
        ] {
            lib.def(
                name, "tensor.\(name)(t)", "A new tensor with t's shape and dtype: \(name.split(separator: "_").first!).",
                example: "print(tensor.\(name)(tensor.ones(2, 2)):shape()[1])"
            ) { s in
                s.push(try f(try s.checkTensor(1, "tensor.\(name)")))
                return 1
            }
        }
        lib.def(
            "full_like", "tensor.full_like(t, value)", "A new tensor with t's shape and dtype, filled with value.",
            example: "print(tensor.full_like(tensor.ones(2), 5))"
        ) { s in
            s.push(try s.checkTensor(1, "tensor.full_like").fullLike(try s.checkNumber(2, "tensor.full_like")))
            return 1
        }
        lua_setglobal(L, "tensor")
    }
}

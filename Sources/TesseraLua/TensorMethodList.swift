// TensorMethodList: every `Tensor:` method with its help entry. Dims and indices are 1-based in
// Lua; index tensors given to gather/scatter/index_select hold 1-based positions too.

import CLua
import LuaShim
import TesseraTensor

extension LuaRuntime {
    func openTensorMethods() {
        let m = LibraryBuilder(self, prefix: "Tensor", methods: true)
        Help.addTopic(
            "Tensor",
            """
            Tensor methods, called as x:name(...). Dimensions and indices count from 1; negative
            ones count from the end. Methods that return a new tensor leave x unchanged; the ones
            ending in _ (fill_, zero_, copy_) change x in place. Views (view, t, transpose,
            narrow, select, expand, ...) share memory with x.
            """)

        func unary(_ name: String, _ summary: String, _ f: @escaping (Tensor) throws -> Tensor) {
            m.def(name, "x:\(name)()", summary, example: "print(tensor.from{-1, 0.5, 2}:\(name)())") { s in
                s.push(try f(try s.checkTensor(1, name)))
                return 1
            }
        }
        unary("neg", "-x elementwise.") { try $0.neg() }
        unary("abs", "|x| elementwise.") { try $0.abs() }
        unary("sqrt", "Square root elementwise (NaN below 0).") { try $0.sqrt() }
        unary("rsqrt", "1/sqrt(x) elementwise.") { try $0.rsqrt() }
        unary("exp", "e^x elementwise.") { try $0.exp() }
        unary("log", "Natural logarithm elementwise (-inf at 0, NaN below).") { try $0.log() }
        unary("tanh", "Hyperbolic tangent elementwise.") { try $0.tanh() }
        unary("sigmoid", "1/(1+e^-x) elementwise.") { try $0.sigmoid() }
        unary("relu", "max(x, 0) elementwise.") { try $0.relu() }
        unary("gelu", "GELU, exact form x·Φ(x) (BERT, XLM-R).") { try $0.gelu() }
        unary("gelu_tanh", "GELU, tanh approximation (GPT-2's gelu_new).") { try $0.geluTanh() }
        unary("silu", "x·sigmoid(x) elementwise (SwiGLU's gate).") { try $0.silu() }
        unary("sin", "Sine elementwise.") { try $0.sin() }
        unary("cos", "Cosine elementwise.") { try $0.cos() }
        unary("square", "x² elementwise.") { try $0.square() }
        unary("clone", "A copy that owns its memory (gradients flow through it).") { try $0.clone() }
        unary("contiguous", "x itself if it is contiguous, else a row-major copy.") { try $0.contiguous() }
        unary("detach", "A tensor sharing x's memory, cut from the autograd graph.") { $0.detach() }
        unary("t", "Transpose of a matrix (a view).") { try $0.t() }
        unary("logical_not", "Elementwise not, as bool.") { try $0.logicalNot() }

        func binary(_ name: String, _ summary: String, _ op: BinaryOp) {
            m.def(
                name, "x:\(name)(y)", summary + " y is a tensor or a number; shapes broadcast.",
                example: "print(tensor.from{1, 2, 3}:\(name)(tensor.from{3, 2, 1}))"
            ) { s in
                let x = try s.checkTensor(1, name)
                s.push(try x.binary(op, try s.checkTensorLike(2, name, dtype: x.dtype)))
                return 1
            }
        }
        binary("add", "x + y elementwise.", .add)
        binary("sub", "x - y elementwise.", .sub)
        binary("mul", "x * y elementwise.", .mul)
        binary("div", "x / y elementwise (integers divide to f32; division by zero gives inf or nan).", .div)
        binary("pow", "x ^ y elementwise.", .pow)
        binary("maximum", "Elementwise larger of x and y (NaN propagates).", .maximum)
        binary("minimum", "Elementwise smaller of x and y (NaN propagates).", .minimum)

        for (name, op) in [("eq", CompareOp.eq), ("ne", .ne), ("lt", .lt), ("le", .le), ("gt", .gt), ("ge", .ge)] {
            m.def(
                name, "x:\(name)(y)",
                "Elementwise comparison x \(["eq": "==", "ne": "~=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="][name]!) y, as a bool tensor.",
                example: "print(tensor.from{1, 2, 3}:\(name)(2))"
            ) { s in
                let x = try s.checkTensor(1, name)
                s.push(try x.compare(op, try s.checkTensorLike(2, name, dtype: x.dtype)))
                return 1
            }
        }
        for (name, and) in [("logical_and", true), ("logical_or", false)] {
            m.def(
                name, "x:\(name)(y)", "Elementwise \(and ? "and" : "or") of truth values, as bool.",
                example: "print(tensor.from{true, false}:\(name)(tensor.from{true, true}))"
            ) { s in
                let x = try s.checkTensor(1, name), y = try s.checkTensorLike(2, name)
                s.push(and ? try x.logicalAnd(y) : try x.logicalOr(y))
                return 1
            }
        }
        m.def("all", "x:all()", "Whether every element is true (non-zero).", example: "print(tensor.ones(3):all())") { s in
            let x = try s.checkTensor(1, "all")
            s.push(try x.to(.bool).to(.i64).sum().item() == Double(x.numel))
            return 1
        }
        m.def("any", "x:any()", "Whether some element is true (non-zero).", example: "print(tensor.zeros(3):any())") { s in
            s.push(try s.checkTensor(1, "any").to(.bool).to(.i64).sum().item() > 0)
            return 1
        }

        // --- shape and conversion
        m.def(
            "shape", "x:shape()", "The sizes as a Lua table ({} for a 0-d tensor).", example: "print(table.concat(tensor.zeros(2, 3):shape(), 'x'))"
        ) { s in
            s.push(try s.checkTensor(1, "shape").shape)
            return 1
        }
        m.def("size", "x:size([dim])", "The size of dimension dim, or all sizes as a table.", example: "print(tensor.zeros(2, 3):size(2))") { s in
            let x = try s.checkTensor(1, "size")
            if s.isNoneOrNil(2) { s.push(x.shape); return 1 }
            let d = try s.checkDim(2, "size")
            guard d >= -x.rank && d < x.rank else { throw LuaError.argument(2, "size", "dimension out of range for a \(x.rank)-d tensor") }
            s.push(x.shape[d < 0 ? d + x.rank : d])
            return 1
        }
        m.def(
            "stride", "x:stride()", "Elements stepped per index of each dimension (views share memory).",
            example: "print(table.concat(tensor.zeros(2, 3):t():stride(), ','))"
        ) { s in
            s.push(try s.checkTensor(1, "stride").strides)
            return 1
        }
        m.def("dim", "x:dim()", "Number of dimensions.", example: "print(tensor.zeros(2, 3):dim())") { s in
            s.push(try s.checkTensor(1, "dim").rank)
            return 1
        }
        m.def("numel", "x:numel()", "Number of elements.", example: "print(tensor.zeros(2, 3):numel())") { s in
            s.push(try s.checkTensor(1, "numel").numel)
            return 1
        }
        m.def("dtype", "x:dtype()", "Element type: \"f32\", \"f64\", \"i32\", \"i64\" or \"bool\".", example: "print(tensor.zeros(1):dtype())") { s in
            s.push(try s.checkTensor(1, "dtype").dtype.rawValue)
            return 1
        }
        m.def(
            "is_contiguous", "x:is_contiguous()", "Whether elements sit in row-major order without gaps.",
            example: "print(tensor.zeros(2, 3):t():is_contiguous())"
        ) { s in
            s.push(try s.checkTensor(1, "is_contiguous").isContiguous)
            return 1
        }
        m.def("item", "x:item()", "The value of a one-element tensor as a Lua number (or boolean).", example: "print(tensor.from{{7}}:item())") { s in
            let x = try s.checkTensor(1, "item")
            s.pushElement(try x.item(), x.dtype)
            return 1
        }
        m.def(
            "totable", "x:totable()", "The elements as nested Lua tables (a number for a 0-d tensor).",
            example: "local t = tensor.eye(2):totable()\nprint(t[2][2])"
        ) { s in
            try s.pushTable(try s.checkTensor(1, "totable"))
            return 1
        }
        m.def("to", "x:to(dtype)", "x converted to dtype (itself if it has it already).", example: "print(tensor.from{1.7, -2.5}:to(\"i64\"))") { s in
            let x = try s.checkTensor(1, "to")
            let name = try s.checkString(2, "to")
            guard let dt = DType(rawValue: name) else {
                throw LuaError.argument(2, "to", "unknown dtype \"\(name)\"; expected f32, f64, i32, i64 or bool")
            }
            s.push(try x.to(dt))
            return 1
        }
        for (name, dt) in [("float", DType.f32), ("double", .f64), ("long", .i64), ("int", .i32), ("bool", .bool)] {
            m.def(name, "x:\(name)()", "x converted to \(dt.rawValue).", example: "print(tensor.from{1, 0}:\(name)():dtype())") { s in
                s.push(try s.checkTensor(1, name).to(dt))
                return 1
            }
        }

        // --- views
        func shapeArgs(_ s: LuaStack, _ name: String) throws -> [Int] {
            if lua_type(s.L, 2) == LUA_TTABLE { return try s.intSequence(2, name) }
            var out: [Int] = []
            var i: Int32 = 2
            while !s.isNoneOrNil(i) { out.append(try s.checkInt(i, name)); i += 1 }
            return out
        }
        m.def(
            "view", "x:view(d1, d2, ... | {d1, ...})", "A view with a new shape (one size may be -1); errors if the strides do not allow it.",
            example: "print(tensor.arange(6):view(2, -1))"
        ) { s in
            s.push(try s.checkTensor(1, "view").view(try shapeArgs(s, "view")))
            return 1
        }
        m.def(
            "reshape", "x:reshape(d1, d2, ... | {d1, ...})", "Like view, copying when no view is possible.",
            example: "print(tensor.arange(6):view(2, 3):t():reshape(6))"
        ) { s in
            s.push(try s.checkTensor(1, "reshape").reshape(try shapeArgs(s, "reshape")))
            return 1
        }
        m.def(
            "expand", "x:expand(d1, d2, ... | {d1, ...})", "Size-1 dimensions repeated without copying (-1 keeps a size).",
            example: "print(tensor.from{{1}, {2}}:expand(2, 3))"
        ) { s in
            s.push(try s.checkTensor(1, "expand").expand(try shapeArgs(s, "expand")))
            return 1
        }
        m.def(
            "permute", "x:permute(d1, d2, ...)", "Dimensions reordered: result dimension i is x's dimension di.",
            example: "print(table.concat(tensor.zeros(2, 3, 4):permute(3, 1, 2):shape(), 'x'))"
        ) { s in
            let dims = try shapeArgs(s, "permute").enumerated().map { try LuaStack.dim($0.element, Int32($0.offset + 2), "permute") }
            s.push(try s.checkTensor(1, "permute").permute(dims))
            return 1
        }
        m.def(
            "transpose", "x:transpose(d1, d2)", "Dimensions d1 and d2 swapped (a view).",
            example: "print(tensor.arange(6):view(2, 3):transpose(1, 2))"
        ) { s in
            s.push(try s.checkTensor(1, "transpose").transpose(try s.checkDim(2, "transpose"), try s.checkDim(3, "transpose")))
            return 1
        }
        m.def(
            "narrow", "x:narrow(dim, start, length)", "length entries of dimension dim from start (a view).",
            example: "print(tensor.arange(10):narrow(1, 3, 4))"
        ) { s in
            let x = try s.checkTensor(1, "narrow"), d = try s.checkDim(2, "narrow")
            let size = x.rank == 0 ? 0 : x.shape[d < 0 ? d + x.rank : d]
            let start = try s.checkIndex(3, "narrow", size: size + 1)  // start may sit just past the end for length 0
            let length = try s.checkInt(4, "narrow")
            guard length >= 0, length <= size - start else {
                throw LuaError.argument(4, "narrow", "length \(length) from start \(start + 1) runs past the end of a dimension of size \(size)")
            }
            s.push(try x.narrow(d, start, length))
            return 1
        }
        m.def(
            "select", "x:select(dim, index)", "The slice at index of dimension dim, which is removed (a view). x[i] is x:select(1, i).",
            example: "print(tensor.arange(6):view(2, 3):select(2, 1))"
        ) { s in
            let x = try s.checkTensor(1, "select"), d = try s.checkDim(2, "select")
            guard x.rank > 0 else { throw LuaError.argument(1, "select", "cannot select from a 0-d tensor") }
            s.push(try x.select(d, try s.checkIndex(3, "select", size: x.shape[d < 0 ? d + x.rank : d])))
            return 1
        }
        m.def("squeeze", "x:squeeze([dim])", "Size-1 dimensions removed (all, or only dim).", example: "print(tensor.zeros(1, 3, 1):squeeze():dim())")
        { s in
            s.push(try s.checkTensor(1, "squeeze").squeeze(try s.optDim(2, "squeeze")))
            return 1
        }
        m.def(
            "unsqueeze", "x:unsqueeze(dim)", "A size-1 dimension inserted at position dim.",
            example: "print(table.concat(tensor.zeros(3):unsqueeze(1):shape(), 'x'))"
        ) { s in
            let x = try s.checkTensor(1, "unsqueeze")
            let d = try s.checkInt(2, "unsqueeze")
            if d == 0 { throw LuaError.argument(2, "unsqueeze", "dimension 0 is invalid: dimensions count from 1") }
            s.push(try x.unsqueeze(d > 0 ? d - 1 : d))
            return 1
        }
        m.def(
            "flatten", "x:flatten([start_dim [, end_dim]])", "Dimensions start..end merged into one (all by default).",
            example: "print(tensor.zeros(2, 3, 4):flatten(2):shape()[2])"
        ) { s in
            let x = try s.checkTensor(1, "flatten")
            s.push(try x.flatten(try s.optDim(2, "flatten") ?? 0, try s.optDim(3, "flatten") ?? -1))
            return 1
        }
        m.def(
            "split", "x:split(size | {sizes} [, dim])", "Views of consecutive pieces along dim (default 1), as a Lua table.",
            example: "for _, p in ipairs(tensor.arange(5):split(2)) do print(p) end"
        ) { s in
            let x = try s.checkTensor(1, "split")
            let d = s.isNoneOrNil(3) ? 0 : try s.checkDim(3, "split")
            let parts =
                lua_type(s.L, 2) == LUA_TTABLE
                ? try x.split(sizes: try s.intSequence(2, "split"), dim: d) : try x.split(try s.checkInt(2, "split"), dim: d)
            self.pushList(s, parts)
            return 1
        }
        m.def(
            "chunk", "x:chunk(n [, dim])", "n views of (nearly) equal size along dim (default 1), as a Lua table.",
            example: "print(#tensor.arange(10):chunk(3))"
        ) { s in
            let x = try s.checkTensor(1, "chunk")
            self.pushList(s, try x.chunk(try s.checkInt(2, "chunk"), dim: s.isNoneOrNil(3) ? 0 : try s.checkDim(3, "chunk")))
            return 1
        }

        // --- reductions
        func reduction(_ name: String, _ summary: String, _ f: @escaping (Tensor, [Int]?, Bool) throws -> Tensor) {
            m.def(
                name, "x:\(name)([dim | {dims}] [, keepdim])", summary + " Over all elements when no dim is given.",
                example: "local x = tensor.from{{1, 2}, {3, 4}}\nprint(x:\(name)(), x:\(name)(1))"
            ) { s in
                let x = try s.checkTensor(1, name)
                var dims: [Int]? = nil
                if lua_type(s.L, 2) == LUA_TTABLE {
                    dims = try s.intSequence(2, name).map { try LuaStack.dim($0, 2, name) }
                } else if !s.isNoneOrNil(2) {
                    dims = [try s.checkDim(2, name)]
                }
                s.push(try f(x, dims, try s.optBool(3, name, false)))
                return 1
            }
        }
        reduction("sum", "Sum.") { try $0.sum(dims: $1, keepDim: $2) }
        reduction("mean", "Mean.") { try $0.mean(dims: $1, keepDim: $2) }
        reduction("var", "Unbiased variance (divides by n - 1, as torch.var).") { try $0.variance(dims: $1, keepDim: $2) }
        reduction("std", "Unbiased standard deviation.") { try $0.variance(dims: $1, keepDim: $2).sqrt() }
        reduction("norm", "Euclidean (L2) norm, √Σx² (for cosine similarities: a / a:norm()).") {
            try $0.square().sum(dims: $1, keepDim: $2).sqrt()
        }
        reduction("logsumexp", "log Σ exp(x), computed stably.") { try $0.logsumexp(dims: $1 ?? Array(0..<$0.rank), keepDim: $2) }
        for (name, largest) in [("max", true), ("min", false)] {
            m.def(
                name, "x:\(name)([dim [, keepdim]])",
                "The \(largest ? "largest" : "smallest") element, or along dim the values and their (1-based) indices.",
                example: "local v, i = tensor.from{{1, 5}, {7, 2}}:\(name)(2)\nprint(v, i)"
            ) { s in
                let x = try s.checkTensor(1, name)
                if s.isNoneOrNil(2) { s.push(largest ? try x.max() : try x.min()); return 1 }
                let d = try s.checkDim(2, name), keep = try s.optBool(3, name, false)
                let r = largest ? try x.max(dim: d, keepDim: keep) : try x.min(dim: d, keepDim: keep)
                s.push(r.values)
                s.push(try r.indices.add(1))
                return 2
            }
        }
        for (name, largest) in [("argmax", true), ("argmin", false)] {
            m.def(
                name, "x:\(name)([dim [, keepdim]])",
                "1-based index of the \(largest ? "largest" : "smallest") value (over the flattened tensor without dim).",
                example: "print(tensor.from{3, 9, 1}:\(name)())"
            ) { s in
                let x = try s.checkTensor(1, name)
                let d = try s.optDim(2, name), keep = try s.optBool(3, name, false)
                let r = largest ? try x.argmax(dim: d, keepDim: keep) : try x.argmin(dim: d, keepDim: keep)
                s.push(try r.add(1))
                return 1
            }
        }
        m.def("cumsum", "x:cumsum(dim)", "Running sum along dim.", example: "print(tensor.arange(1, 6):cumsum(1))") { s in
            s.push(try s.checkTensor(1, "cumsum").cumsum(try s.checkDim(2, "cumsum")))
            return 1
        }
        for (name, log) in [("softmax", false), ("log_softmax", true)] {
            m.def(
                name, "x:\(name)(dim)", log ? "log(softmax(x)) along dim, computed stably." : "exp(x) / Σ exp(x) along dim, computed stably.",
                example: "print(tensor.from{1, 2, 3}:\(name)(1))"
            ) { s in
                let x = try s.checkTensor(1, name), d = try s.checkDim(2, name)
                s.push(log ? try x.logSoftmax(d) : try x.softmax(d))
                return 1
            }
        }
        m.def(
            "layer_norm", "x:layer_norm([weight [, bias [, eps]]])", "Normalise over the last dimension (mean 0, variance 1), then scale and shift.",
            example: "print(tensor.from{{1, 2, 3}}:layer_norm())"
        ) { s in
            let x = try s.checkTensor(1, "layer_norm")
            let w = s.isNoneOrNil(2) ? nil : try s.checkTensor(2, "layer_norm")
            let b = s.isNoneOrNil(3) ? nil : try s.checkTensor(3, "layer_norm")
            s.push(try x.layerNorm(weight: w, bias: b, eps: try s.optNumber(4, "layer_norm", 1e-5)))
            return 1
        }
        m.def(
            "matmul", "x:matmul(y)", "Matrix product (batched and broadcasting for more than 2 dims; 1-D operands are vectors).",
            example: "print(tensor.eye(2):matmul(tensor.from{{1, 2}, {3, 4}}))"
        ) { s in
            s.push(try s.checkTensor(1, "matmul").matmul(try s.checkTensor(2, "matmul")))
            return 1
        }
        m.def("clamp", "x:clamp(min, max)", "Values limited to [min, max] (either may be nil).", example: "print(tensor.from{-2, 0, 2}:clamp(-1, 1))")
        { s in
            let x = try s.checkTensor(1, "clamp")
            let lo = s.isNoneOrNil(2) ? nil : try s.checkNumber(2, "clamp")
            let hi = s.isNoneOrNil(3) ? nil : try s.checkNumber(3, "clamp")
            s.push(try x.clamp(min: lo, max: hi))
            return 1
        }
        m.def(
            "masked_fill", "x:masked_fill(mask, value)", "x with value where the bool mask is true.",
            example: "local x = tensor.from{1, 2, 3}\nprint(x:masked_fill(x:gt(1), 0))"
        ) { s in
            s.push(try s.checkTensor(1, "masked_fill").maskedFill(try s.checkTensor(2, "masked_fill"), try s.checkNumber(3, "masked_fill")))
            return 1
        }
        m.def(
            "masked_select", "x:masked_select(mask)", "The elements where mask is true, as a 1-D tensor.",
            example: "local x = tensor.from{1, 2, 3}\nprint(x:masked_select(x:gt(1)))"
        ) { s in
            s.push(try s.checkTensor(1, "masked_select").maskedSelect(try s.checkTensor(2, "masked_select")))
            return 1
        }

        // --- indexing with index tensors (1-based positions)
        /// a 1-based index tensor (or table of integers) into a dimension of `size`, as the
        /// engine's 0-based one; the range is checked here, as the engine would name the shifted
        /// 0-based value
        func index(_ s: LuaStack, _ i: Int32, _ name: String, size: Int) throws -> Tensor {
            let t = try s.checkTensorLike(i, name, dtype: .i64)
            let ix = lua_type(s.L, i) == LUA_TTABLE && s.tensor(at: i) == nil ? try t.to(.i64) : t
            guard ix.dtype == .i64 || ix.dtype == .i32 else {
                throw LuaError.argument(i, name, "index tensor must be i64 or i32, got \(ix.dtype)")
            }
            let wide = try ix.to(.i64)
            if try wide.eq(0).any() { throw LuaError.argument(i, name, "index 0 is invalid: indices count from 1") }
            if wide.numel > 0 {
                for v in [Int(try wide.min().item()), Int(try wide.max().item())] where v > size || v < -size {
                    throw LuaError.argument(
                        i, name, "index \(v) out of range for a dimension of size \(size) (indices count from 1, or from -1 at the end)")
                }
            }
            // positive indices shift to 0-based; negative ones count from the end in both worlds
            return try Tensor.where(wide.lt(0), wide, wide.sub(1))
        }
        /// the size of x's dimension d (as checkDim returns it: 0-based, or negative from the end)
        func size(_ x: Tensor, _ d: Int) -> Int { x.rank == 0 ? 1 : x.shape[d < 0 ? d + x.rank : d] }
        m.def(
            "gather", "x:gather(dim, index)", "out[i][j] = x[index[i][j]][j] for dim 1 (likewise for other dims).",
            example: "local x = tensor.from{{1, 2}, {3, 4}}\nprint(x:gather(2, tensor.from({{2}, {1}}, {dtype = 'i64'})))"
        ) { s in
            let x = try s.checkTensor(1, "gather"), d = try s.checkDim(2, "gather")
            s.push(try x.gather(d, try index(s, 3, "gather", size: size(x, d))))
            return 1
        }
        m.def(
            "scatter", "x:scatter(dim, index, src | value)", "A copy of x with src's values (or value) written at index along dim.",
            example: "print(tensor.zeros(2, 3):scatter(2, tensor.from({{3}, {1}}, {dtype = 'i64'}), 1))"
        ) { s in
            let x = try s.checkTensor(1, "scatter"), d = try s.checkDim(2, "scatter"), ix = try index(s, 3, "scatter", size: size(x, d))
            if let v = s.number(at: 4) {
                s.push(try x.scatter(d, ix, value: v))
            } else {
                s.push(try x.scatter(d, ix, try s.checkTensor(4, "scatter")))
            }
            return 1
        }
        m.def(
            "scatter_add", "x:scatter_add(dim, index, src)", "A copy of x with src added at index along dim (repeats accumulate).",
            example: "print(tensor.zeros(3):scatter_add(1, tensor.from({1, 1, 3}, {dtype = 'i64'}), tensor.ones(3)))"
        ) { s in
            let x = try s.checkTensor(1, "scatter_add"), d = try s.checkDim(2, "scatter_add")
            s.push(try x.scatterAdd(d, try index(s, 3, "scatter_add", size: size(x, d)), try s.checkTensor(4, "scatter_add")))
            return 1
        }
        m.def(
            "index_select", "x:index_select(dim, index)", "Slices of dimension dim picked by a 1-D index.",
            example: "print(tensor.arange(6):view(3, 2):index_select(1, tensor.from({3, 1}, {dtype = 'i64'})))"
        ) { s in
            let x = try s.checkTensor(1, "index_select"), d = try s.checkDim(2, "index_select")
            s.push(try x.indexSelect(d, try index(s, 3, "index_select", size: size(x, d))))
            return 1
        }
        m.def(
            "index_add", "x:index_add(dim, index, src)", "A copy of x with src's slices added at the positions of a 1-D index along dim.",
            example: "print(tensor.zeros(3, 2):index_add(1, tensor.from({1, 3}, {dtype = 'i64'}), tensor.ones(2, 2)))"
        ) { s in
            let x = try s.checkTensor(1, "index_add"), d = try s.checkDim(2, "index_add")
            s.push(try x.indexAdd(d, try index(s, 3, "index_add", size: size(x, d)), try s.checkTensor(4, "index_add")))
            return 1
        }
        m.def(
            "one_hot", "x:one_hot(num_classes)", "For 1-based class indices, indicator vectors of length num_classes (i64).",
            example: "print(tensor.from({2, 1}, {dtype = 'i64'}):one_hot(3))"
        ) { s in
            let classes = try s.checkInt(2, "one_hot")
            guard classes > 0 else { throw LuaError.argument(2, "one_hot", "number of classes must be positive, got \(classes)") }
            s.push(try index(s, 1, "one_hot", size: classes).oneHot(classes))
            return 1
        }

        // --- selection
        m.def(
            "topk", "x:topk(k [, dim [, largest [, sorted]]])",
            "The k largest (or smallest) values along dim (default last) and their 1-based indices.",
            details:
                "Exactly k results: among equal values the lower index wins. Selection is O(n), so it suits\nthe top-K of 10^8 parameter changes that sparse fine-tuning needs.",
            example: "local v, i = tensor.from{3, 1, 4, 1, 5}:topk(2)\nprint(v, i)"
        ) { s in
            let x = try s.checkTensor(1, "topk"), k = try s.checkInt(2, "topk"), d = try s.optDim(3, "topk") ?? -1
            // checked here: the engine's message would name the dimension from 0
            guard k >= 0, k <= size(x, d) else {
                throw LuaError.argument(2, "topk", "k = \(k) is out of range: the dimension has \(size(x, d)) elements")
            }
            let r = try x.topk(k, dim: d, largest: try s.optBool(4, "topk", true), sorted: try s.optBool(5, "topk", true))
            s.push(r.values)
            s.push(try r.indices.add(1))
            return 2
        }
        m.def(
            "sort", "x:sort([dim [, descending]])", "Values sorted along dim (default last) and their 1-based indices (stable).",
            example: "local v, i = tensor.from{3, 1, 2}:sort()\nprint(v, i)"
        ) { s in
            let r = try s.checkTensor(1, "sort").sort(dim: try s.optDim(2, "sort") ?? -1, descending: try s.optBool(3, "sort", false))
            s.push(r.values)
            s.push(try r.indices.add(1))
            return 2
        }
        m.def(
            "argsort", "x:argsort([dim [, descending]])", "1-based indices that sort x along dim (stable).",
            example: "print(tensor.from{3, 1, 2}:argsort())"
        ) { s in
            s.push(
                try s.checkTensor(1, "argsort").argsort(dim: try s.optDim(2, "argsort") ?? -1, descending: try s.optBool(3, "argsort", false)).add(1))
            return 1
        }
        m.def(
            "kthvalue", "x:kthvalue(k [, dim [, keepdim]])", "The k-th smallest value along dim (default last) and its 1-based index.",
            example: "print(tensor.from{5, 3, 9, 1}:kthvalue(2))"
        ) { s in
            let x = try s.checkTensor(1, "kthvalue"), k = try s.checkInt(2, "kthvalue"), d = try s.optDim(3, "kthvalue") ?? -1
            guard k >= 1, k <= size(x, d) else {
                throw LuaError.argument(2, "kthvalue", "k = \(k) is out of range: the dimension has \(size(x, d)) elements (k counts from 1)")
            }
            let r = try x.kthvalue(k, dim: d, keepDim: try s.optBool(4, "kthvalue", false))
            s.push(r.values)
            s.push(try r.indices.add(1))
            return 2
        }

        // --- random
        m.def(
            "dropout", "x:dropout(p [, training])",
            "Zeroes each element with probability p and scales the rest by 1/(1-p) (identity when training is false).",
            example: "tensor.manual_seed(0)\nprint(tensor.ones(8):dropout(0.5))"
        ) { s in
            s.push(try s.checkTensor(1, "dropout").dropout(try s.checkNumber(2, "dropout"), training: try s.optBool(3, "dropout", true)))
            return 1
        }
        m.def(
            "bernoulli", "p:bernoulli()", "1 with probability p (x's values, in [0, 1]), else 0.",
            example: "tensor.manual_seed(0)\nprint(tensor.full({6}, 0.5):bernoulli())"
        ) { s in
            s.push(try s.checkTensor(1, "bernoulli").bernoulli())
            return 1
        }
        m.def(
            "multinomial", "w:multinomial(n [, replacement])", "n 1-based category indices per row drawn from the weights w.",
            example: "tensor.manual_seed(0)\nprint(tensor.from{0.1, 0.0, 0.9}:multinomial(4, true))"
        ) { s in
            s.push(
                try s.checkTensor(1, "multinomial").multinomial(try s.checkInt(2, "multinomial"), replacement: try s.optBool(3, "multinomial", false))
                    .add(1))
            return 1
        }

        // --- in place
        m.def("fill_", "x:fill_(value)", "Sets every element to value; returns x.", example: "print(tensor.zeros(3):fill_(2))") { s in
            s.push(try s.checkTensor(1, "fill_").fill_(try s.checkNumber(2, "fill_")))
            return 1
        }
        m.def("zero_", "x:zero_()", "Sets every element to 0; returns x.", example: "print(tensor.ones(3):zero_())") { s in
            s.push(try s.checkTensor(1, "zero_").zero_())
            return 1
        }
        m.def(
            "copy_", "x:copy_(src)", "Copies src (broadcast, converted) into x; returns x.",
            example: "print(tensor.zeros(2, 2):copy_(tensor.from{1, 2}))"
        ) { s in
            s.push(try s.checkTensor(1, "copy_").copy_(try s.checkTensorLike(2, "copy_")))
            return 1
        }

        // --- autograd
        m.def(
            "requires_grad", "x:requires_grad([flag])",
            "With flag, marks a leaf tensor as needing gradients (or not) and returns x; without, tells whether x requires grad.",
            details: "After y:backward(), x.grad holds dy/dx for every leaf x that requires grad.",
            example: "local x = tensor.from{1, 2, 3}:requires_grad(true)\n;(x * x):sum():backward()\nprint(x:requires_grad(), x.grad)"
        ) { s in
            let x = try s.checkTensor(1, "requires_grad")
            if s.isNoneOrNil(2) { s.push(x.requiresGrad); return 1 }
            s.push(try x.requiresGrad(try s.optBool(2, "requires_grad", true)))
            return 1
        }
        m.def(
            "is_leaf", "x:is_leaf()", "Whether x was made by the user rather than recorded from an op (leaves receive .grad).",
            example: "local x = tensor.ones(2):requires_grad(true)\nprint(x:is_leaf(), (x * 2):is_leaf())"
        ) { s in
            s.push(try s.checkTensor(1, "is_leaf").isLeaf)
            return 1
        }
        m.def(
            "backward", "y:backward([gradient [, {retain_graph=}]])", "Accumulates dy/dx into x.grad for every leaf x that requires grad.",
            details: "A one-element y needs no gradient; otherwise pass one of y's shape. The graph is freed\nunless retain_graph is true.",
            example: "local w = tensor.from{2.0}:requires_grad(true)\nlocal y = (w ^ 3):sum()\ny:backward()\nprint(w.grad)"
        ) { s in
            let y = try s.checkTensor(1, "backward")
            // options come second when no gradient is given, else third (the gradient may be nil:
            // y:backward(nil, {retain_graph = true}) must not drop the options)
            let optionsSecond = lua_type(s.L, 2) == LUA_TTABLE
            let gradient = optionsSecond || s.isNoneOrNil(2) ? nil : try s.checkTensor(2, "backward")
            let opts = try s.options(optionsSecond ? 2 : 3, "backward", allowed: ["retain_graph"])
            try y.backward(gradient, retainGraph: try opts.bool("retain_graph") ?? false)
            return 0
        }
        lua_settop(L, lua_gettop(L))
    }

    /// pushes tensors as a Lua sequence
    func pushList(_ s: LuaStack, _ ts: [Tensor]) {
        lua_createtable(s.L, Int32(ts.count), 0)
        for (k, t) in ts.enumerated() {
            s.push(t)
            lua_rawseti(s.L, -2, lua_Integer(k + 1))
        }
    }
}

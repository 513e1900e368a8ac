// TensorUserdata: a tensor in Lua is a full userdata holding one retained reference to the Swift
// Tensor; `__gc` drops it, so the storage is freed as soon as Lua collects the value.

import CLua
import LuaShim
import TesseraTensor

let tensorMetatableName = "tessera.Tensor"

/// the registry key of the tensor metatable (see RetainedUserdata)
nonisolated(unsafe) let tensorMetatableKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

extension LuaStack {
    /// The tensor at index i, or nil if the value is not a tensor.
    public func tensor(at i: Int32) -> Tensor? {
        retainedObject(at: i, metatable: tensorMetatableKey, as: Tensor.self)
    }

    public func checkTensor(_ i: Int32, _ fn: String) throws -> Tensor {
        guard let t = tensor(at: i) else { throw LuaError.argument(i, fn, "tensor expected, got \(typeName(i))") }
        return t
    }

    /// A tensor argument, or a number (or nested table of numbers) converted to one.
    public func checkTensorLike(_ i: Int32, _ fn: String, dtype: DType = .f32) throws -> Tensor {
        if let t = tensor(at: i) { return t }
        if let d = number(at: i) { return try Tensor.scalar(d, dtype: dtype) }
        if lua_type(L, i) == LUA_TTABLE { return try tensorFromTable(i, fn, dtype: nil) }
        throw LuaError.argument(i, fn, "tensor or number expected, got \(typeName(i))")
    }

    /// Pushes a tensor as a new userdata (each push is its own Lua value sharing the Tensor).
    public func push(_ t: Tensor) {
        pushRetained(t, metatable: tensorMetatableKey)
        LuaRuntime.current?.noteAllocation(t.numel * t.dtype.size)
    }

    /// A tensor from a nested table of numbers or booleans, `{{1, 2}, {3, 4}}`.
    public func tensorFromTable(_ i: Int32, _ fn: String, dtype: DType?) throws -> Tensor {
        // named fields would be dropped silently: tensor.from{dtype = "f64"} is a misplaced option
        if hasStringKeys(i) {
            throw LuaError.argument(i, fn, "nested table of numbers expected, got a table with named fields (options go in the next argument)")
        }
        var shape: [Int] = []
        var values: [Double] = []
        var allBool = true
        var leafDepth: Int? = nil
        try collect(
            lua_absindex(L, i), depth: 0, shape: &shape, values: &values, allBool: &allBool,
            leafDepth: &leafDepth, fn: fn, arg: i)
        let dt = dtype ?? (values.isEmpty ? .f32 : allBool ? .bool : .f32)
        let t = try Tensor.empty(shape, dtype: dt, op: fn)
        for (k, v) in values.enumerated() { t.setFlat(k, v) }
        return t
    }

    private func collect(
        _ t: Int32, depth: Int, shape: inout [Int], values: inout [Double], allBool: inout Bool,
        leafDepth: inout Int?, fn: String, arg: Int32
    ) throws {
        guard depth < 32 else { throw LuaError.argument(arg, fn, "table nested too deeply") }
        let n = Int(lua_rawlen(L, t))
        if depth == shape.count {
            shape.append(n)
        } else if shape[depth] != n {
            throw LuaError.argument(arg, fn, "ragged nested table: a row at depth \(depth + 1) has \(n) elements, expected \(shape[depth])")
        }
        let ragged = LuaError.argument(arg, fn, "ragged nested table: numbers and tables mixed at depth \(depth + 1)")
        for k in 0..<n {
            let ty = lua_rawgeti(L, t, lua_Integer(k + 1))
            defer { lua_settop(L, -2) }
            if ty == LUA_TTABLE {
                if let leaf = leafDepth, depth >= leaf { throw ragged }
                try collect(
                    lua_absindex(L, -1), depth: depth + 1, shape: &shape, values: &values, allBool: &allBool,
                    leafDepth: &leafDepth, fn: fn, arg: arg)
            } else if ty == LUA_TNUMBER || ty == LUA_TBOOLEAN {
                if leafDepth == nil { leafDepth = depth }
                guard leafDepth == depth, shape.count == depth + 1 else { throw ragged }
                if ty == LUA_TBOOLEAN {
                    values.append(lua_toboolean(L, -1) != 0 ? 1 : 0)
                } else {
                    allBool = false
                    values.append(luashim_tonumber(L, -1, nil))
                }
            } else {
                throw LuaError.argument(arg, fn, "nested table of numbers expected, found a \(typeName(-1)) at depth \(depth + 1)")
            }
        }
    }

    /// Pushes the tensor as nested tables (a number for a 0-d tensor).
    public func pushTable(_ t: Tensor) throws {
        let values = try t.contiguous().toDoubles()
        if t.rank == 0 { pushElement(values[0], t.dtype); return }
        var k = 0
        func build(_ d: Int) {
            lua_createtable(L, Int32(t.shape[d]), 0)
            for j in 0..<t.shape[d] {
                if d == t.rank - 1 {
                    pushElement(values[k], t.dtype)
                    k += 1
                } else {
                    build(d + 1)
                }
                lua_rawseti(L, -2, lua_Integer(j + 1))
            }
        }
        build(0)
    }

    /// an element as Lua sees it: integers as integers, bools as booleans
    public func pushElement(_ v: Double, _ dtype: DType) {
        switch dtype {
        case .bool: push(v != 0)
        case .i32, .i64: lua_pushinteger(L, lua_Integer(Int64(fromDouble: v)))
        default: push(v)
        }
    }
}

// TensorMethods: the tensor metatable (__index, __newindex, __gc, __tostring, __len, arithmetic)
// and the methods `x:matmul(y)`, `x:sum(1)`, ... with 1-based dimensions and indices.

import CLua
import LuaShim
import TesseraTensor

/// registry name of the tensor method table (for completion and tests)
let tensorMethodsName = "tessera.Tensor.methods"
/// the same table under a pointer key, for the fast lookup in __index
nonisolated(unsafe) let tensorMethodsKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

extension LuaRuntime {
    func openTensorMetatable() {
        newRetainedMetatable(tensorMetatableName, key: tensorMetatableKey, shownAs: "tensor")
        setFunction("__tostring", qualifiedName: "tostring") { s in
            s.push(try s.checkTensor(1, "tostring").description)
            return 1
        }
        setFunction("__len", qualifiedName: "#") { s in
            let t = try s.checkTensor(1, "#")
            guard t.rank > 0 else { throw LuaError("attempt to get the length of a 0-d tensor (use x:item())") }
            s.push(t.shape[0])
            return 1
        }
        for (mm, op) in [("__add", BinaryOp.add), ("__sub", .sub), ("__mul", .mul), ("__div", .div), ("__pow", .pow)] {
            setFunction(mm, qualifiedName: op.rawValue) { s in
                // either operand may be the number: 2 - x, x / 2
                let ta = s.tensor(at: 1), tb = s.tensor(at: 2)
                let a = try ta ?? s.checkTensorLike(1, op.rawValue, dtype: tb?.dtype ?? .f32)
                let b = try tb ?? s.checkTensorLike(2, op.rawValue, dtype: ta?.dtype ?? .f32)
                s.push(try a.binary(op, b))
                return 1
            }
        }
        setFunction("__unm", qualifiedName: "neg") { s in
            s.push(try s.checkTensor(1, "neg").neg())
            return 1
        }
        // methods first (a number is never a method key), then x[i] and x.grad
        setMethodIndex(methodsKey: tensorMethodsKey, qualifiedName: "index") { s in
            let t = try s.checkTensor(1, "index")
            if lua_type(s.L, 2) == LUA_TNUMBER {
                guard t.rank > 0 else { throw LuaError("cannot index a 0-d tensor (use x:item())") }
                let i = try s.checkIndex(2, "index", size: t.shape[0])
                let v = try t.select(0, i)
                if v.rank == 0 { s.pushElement(try v.item(), v.dtype) } else { s.push(v) }
            } else if s.string(at: 2) == "grad", let g = t.grad {
                s.push(g)
            } else {
                s.pushNil()
            }
        }
        setFunction("__newindex", qualifiedName: "newindex") { s in
            let t = try s.checkTensor(1, "newindex")
            if lua_type(s.L, 2) == LUA_TNUMBER {
                guard t.rank > 0 else { throw LuaError("cannot index a 0-d tensor (use x:fill_(v))") }
                let i = try s.checkIndex(2, "newindex", size: t.shape[0])
                let view = try t.select(0, i)
                if let d = s.number(at: 3) {
                    view.fill_(d)
                } else {
                    try view.copy_(try s.checkTensorLike(3, "newindex"))
                }
                return 0
            }
            if s.string(at: 2) == "grad" {
                t.grad = s.isNoneOrNil(3) ? nil : try s.checkTensor(3, "newindex")
                return 0
            }
            throw LuaError("cannot set field '\(s.string(at: 2) ?? s.typeName(2))' of a tensor")
        }
        lua_settop(L, -2)

        openMethodTable(key: tensorMethodsKey, registryName: tensorMethodsName) { openTensorMethods() }
    }
}

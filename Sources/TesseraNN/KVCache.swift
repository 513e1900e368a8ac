// KVCache: the keys and values of the tokens a decoder has already seen, per layer, so that
// generating one more token costs one token's forward pass instead of the whole sequence's.

import TesseraTensor

public final class KVCache {
    /// number of decoder layers the cache holds entries for
    public let layers: Int
    /// tokens cached so far (the position of the next token)
    public private(set) var length = 0
    /// the batch size fixed by the first call (nil while empty)
    public private(set) var batch: Int?
    private var keys: [Tensor?]
    private var values: [Tensor?]

    public init(layers: Int) {
        self.layers = layers
        keys = Array(repeating: nil, count: layers)
        values = Array(repeating: nil, count: layers)
    }

    /// Appends one layer's new keys and values (B, KV, T, hd) and returns all of them
    /// (B, KV, P + T, hd). Cached tensors never carry gradients.
    func append(layer: Int, keys k: Tensor, values v: Tensor) throws -> (keys: Tensor, values: Tensor) {
        guard layer >= 0, layer < layers else {
            throw TensorError("KVCache", "layer \(layer) is outside the cache's \(layers) layers")
        }
        let (k, v) = (k.detach(), v.detach())
        let all: (Tensor, Tensor)
        if let oldK = keys[layer], let oldV = values[layer] {
            all = (try Tensor.cat([oldK, k], dim: 2), try Tensor.cat([oldV, v], dim: 2))
        } else {
            all = (try k.contiguous(), try v.contiguous())
        }
        (keys[layer], values[layer]) = all
        return all
    }

    /// Called by the model once every layer has appended T tokens.
    func advance(by t: Int, batch b: Int) {
        length += t
        batch = b
    }

    /// Forgets everything (a new prompt).
    public func reset() {
        length = 0
        batch = nil
        keys = Array(repeating: nil, count: layers)
        values = Array(repeating: nil, count: layers)
    }

    /// Bytes held by the cached keys and values.
    public var byteCount: Int {
        (keys + values).reduce(0) { $0 + ($1.map { $0.numel * $0.dtype.size } ?? 0) }
    }
}

// BlockCacheTests: large freed blocks are reused instead of returned to the system.

import Testing
@testable import TesseraTensor
import TesseraTestSupport

@Suite struct BlockCacheTests {
    @Test func aFreedLargeBlockServesTheNextRequestOfItsSize() throws {
        // an unusual size, so no test running in parallel shares its bucket
        let count = (5 << 20 + 7 << 16) / 4
        var first: Tensor? = try Tensor.zeros([count])
        let base = first!.storage.base
        first = nil
        let second = try Tensor.zeros([count])
        #expect(second.storage.base == base)
        #expect(try second.sum().item() == 0, "a reused block is zeroed when zeros are asked for")
    }

    @Test func sizeClassesWasteAtMostAnEighth() {
        #expect(BlockCache.bucket(1 << 20) == 1 << 20)
        #expect(BlockCache.bucket((1 << 20) + 1) == (1 << 20) + (1 << 17))
        #expect(BlockCache.bucket(65_537) == 73_728)
        for n in stride(from: 1 << 16, to: 1 << 26, by: 99_991) {
            let b = BlockCache.bucket(n)
            #expect(b >= n && b <= n + n / 8, "\(n) -> \(b)")
        }
    }
}

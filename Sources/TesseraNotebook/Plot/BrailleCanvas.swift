// BrailleCanvas: a grid of terminal cells, each a Unicode braille character of 2x4 dots
// (U+2800 plus one bit per dot), with the colour of the series that drew in it last.

public struct BrailleCanvas {
    /// size in cells
    public let columns: Int, rows: Int
    /// dot bits per cell, row-major
    public private(set) var bits: [UInt8]
    /// series index that drew last in each cell (-1: none)
    public private(set) var owner: [Int]

    public init(columns: Int, rows: Int) {
        self.columns = max(columns, 1)
        self.rows = max(rows, 1)
        bits = [UInt8](repeating: 0, count: self.columns * self.rows)
        owner = [Int](repeating: -1, count: self.columns * self.rows)
    }

    public var dotWidth: Int { columns * 2 }
    public var dotHeight: Int { rows * 4 }

    /// the bit of dot (dx, dy) within its cell, dy counted down: the braille numbering puts dots
    /// 1-3 down the left column, 4-6 down the right, and 7, 8 on the bottom row
    public static func bit(dx: Int, dy: Int) -> UInt8 {
        let table: [[UInt8]] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]
        return table[dy & 3][dx & 1]
    }

    /// Sets dot (x, y), y counted down from the top; dots outside the canvas are ignored.
    public mutating func set(_ x: Int, _ y: Int, series: Int) {
        guard x >= 0, y >= 0, x < dotWidth, y < dotHeight else { return }
        let cell = (y / 4) * columns + x / 2
        bits[cell] |= BrailleCanvas.bit(dx: x % 2, dy: y % 4)
        owner[cell] = series
    }

    /// A straight line of dots from (x0, y0) to (x1, y1) (Bresenham).
    public mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, series: Int) {
        var (x, y) = (x0, y0)
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        // bounded: a line longer than the canvas diagonal cannot be needed
        for _ in 0...(dx - dy + 1) {
            set(x, y, series: series)
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    public func character(column: Int, row: Int) -> Character {
        let b = bits[row * columns + column]
        return b == 0 ? " " : Unicode.Scalar(0x2800 + UInt32(b)).map(Character.init) ?? " "
    }
}

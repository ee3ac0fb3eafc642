extension Naive {
    /// `adaptive_avg_pool2d` from its definition, in Double.
    /// - x: [planes, H, W] → [planes, ho, wo]
    public static func adaptiveAvgPool(_ x: [Float], planes: Int, h: Int, w: Int, ho: Int, wo: Int) -> [Float] {
        var y = [Float](repeating: 0, count: planes * ho * wo)
        for p in 0..<planes {
            for i in 0..<ho {
                let y0 = Int((Double(i * h) / Double(ho)).rounded(.down)), y1 = Int((Double((i + 1) * h) / Double(ho)).rounded(.up))
                for j in 0..<wo {
                    let x0 = Int((Double(j * w) / Double(wo)).rounded(.down)), x1 = Int((Double((j + 1) * w) / Double(wo)).rounded(.up))
                    var sum = 0.0
                    for yy in y0..<y1 { for xx in x0..<x1 { sum += Double(x[(p * h + yy) * w + xx]) } }
                    y[(p * ho + i) * wo + j] = Float(sum / Double((y1 - y0) * (x1 - x0)))
                }
            }
        }
        return y
    }
}

extension Canvas {
    /// Measures one line of text (no drawing).
    public func measure(_ text: String, style: TextStyle) throws -> TextMetrics {
        try TextLayout.measure(text, style: style, fonts: fonts)
    }

    /// Draws one line of text so that the point of its box chosen by `align` and `vertical` lands
    /// on `point`. With `.counterclockwise` the text reads bottom to top and the alignment refers
    /// to the text's own box (so `.center`/`.middle` centres it on `point` either way).
    /// Glyphs are FreeType-rendered and alpha-blended. Returns the text's metrics.
    ///
    ///     try canvas.drawText("layer", at: Point(20, 200), style: TextStyle(size: 13),
    ///                         align: .center, vertical: .middle, rotation: .counterclockwise)
    @discardableResult
    public mutating func drawText(_ text: String, at point: Point, style: TextStyle,
                                  align: HorizontalAlignment = .left, vertical: VerticalAlignment = .baseline,
                                  rotation: TextRotation = .none) throws -> TextMetrics {
        let metrics = try measure(text, style: style)
        // Anchor offset in the text's frame: u along the text, v down from the baseline.
        let anchorU: Int
        switch align {
        case .left: anchorU = 0
        case .center: anchorU = metrics.width / 2
        case .right: anchorU = metrics.width
        }
        let anchorV: Int
        switch vertical {
        case .top: anchorV = -metrics.ascent
        case .middle: anchorV = -(metrics.capHeight + 1) / 2
        case .baseline: anchorV = 0
        case .bottom: anchorV = metrics.descent
        }
        let ax = Int(point.x.rounded()), ay = Int(point.y.rounded())
        let width = self.width, height = self.height
        let color = style.color
        try fonts.withLock { fonts in
            try bitmap.pixels.withUnsafeMutableBufferPointer { pixels in
                try TextLayout.forEachGlyph(text, style: style, fonts: fonts) { glyph, penX in
                    for row in 0..<glyph.rows {
                        let v = row - glyph.top - anchorV
                        for column in 0..<glyph.width {
                            let coverage = glyph.coverage[row * glyph.width + column]
                            if coverage == 0 { continue }
                            let u = penX + glyph.left + column - anchorU
                            let (x, y) = rotation == .none ? (ax + u, ay + v) : (ax + v, ay - u - 1)
                            guard x >= 0, y >= 0, x < width, y < height else { continue }
                            Canvas.blend(pixels, (y * width + x) * 3, color, Double(coverage) / 255)
                        }
                    }
                }
            }
        }
        return metrics
    }
}

import XCTest
@testable import OthelloPlots

/// Colour maps against the published ColorBrewer control points (which matplotlib's RdBu and
/// Blues interpolate), and colour scales' limits.
final class ColorTests: XCTestCase {
    func testRedBlueHitsColorBrewerControlPoints() {
        // ColorBrewer 11-class RdBu, reversed: blue at the bottom, #F7F7F7 in the middle, red at the top.
        let published: [UInt32] = [0x053061, 0x2166AC, 0x4393C3, 0x92C5DE, 0xD1E5F0, 0xF7F7F7,
                                   0xFDDBC7, 0xF4A582, 0xD6604D, 0xB2182B, 0x67001F]
        for (index, hex) in published.enumerated() {
            XCTAssertEqual(ColorMap.redBlue.color(at: Double(index) / 10), RGB(hex: hex))
        }
        XCTAssertTrue(ColorMap.redBlue.isDiverging)
    }

    func testBluesHitsColorBrewerControlPoints() {
        let published: [UInt32] = [0xF7FBFF, 0xDEEBF7, 0xC6DBEF, 0x9ECAE1, 0x6BAED6, 0x4292C6, 0x2171B5, 0x08519C, 0x08306B]
        for (index, hex) in published.enumerated() {
            XCTAssertEqual(ColorMap.blues.color(at: Double(index) / 8), RGB(hex: hex))
        }
        XCTAssertFalse(ColorMap.blues.isDiverging)
    }

    func testInterpolatesLinearlyBetweenControlPoints() {
        // Halfway between #F7F7F7 and #FDDBC7: (247+253)/2 = 250, (247+219)/2 = 233, (247+199)/2 = 223.
        XCTAssertEqual(ColorMap.redBlue.color(at: 0.55), RGB(250, 233, 223))
        // Clamped outside 0...1.
        XCTAssertEqual(ColorMap.redBlue.color(at: -3), RGB(hex: 0x053061))
        XCTAssertEqual(ColorMap.redBlue.color(at: 7), RGB(hex: 0x67001F))
    }

    func testDivergingIsMonotonicOnEachSide() {
        // Away from zero each side gets darker and more saturated: positive values lose blue and
        // green while red's share of the colour rises; negative values lose red and green while
        // blue's share rises. (The red channel itself falls again towards the dark end, #67001F.)
        var previous = ColorMap.redBlue.color(at: 0.5)
        for step in 1...50 {
            let color = ColorMap.redBlue.color(at: 0.5 + Double(step) / 100)
            XCTAssertLessThan(color.luminance, previous.luminance)
            XCTAssertLessThanOrEqual(color.blue, previous.blue)
            XCTAssertLessThanOrEqual(color.green, previous.green)
            XCTAssertGreaterThan(share(color.red, of: color), share(previous.red, of: previous) - 1e-3)
            previous = color
        }
        previous = ColorMap.redBlue.color(at: 0.5)
        for step in 1...50 {
            let color = ColorMap.redBlue.color(at: 0.5 - Double(step) / 100)
            XCTAssertLessThan(color.luminance, previous.luminance)
            XCTAssertLessThanOrEqual(color.red, previous.red)
            XCTAssertLessThanOrEqual(color.green, previous.green)
            XCTAssertGreaterThan(share(color.blue, of: color), share(previous.blue, of: previous) - 1e-3)
            previous = color
        }
    }

    private func share(_ channel: UInt8, of color: RGB) -> Double {
        Double(channel) / Double(Int(color.red) + Int(color.green) + Int(color.blue))
    }

    func testSequentialIsMonotonic() {
        var previous = ColorMap.blues.color(at: 0)
        for step in 1...100 {
            let color = ColorMap.blues.color(at: Double(step) / 100)
            XCTAssertLessThan(color.luminance, previous.luminance)
            XCTAssertLessThanOrEqual(color.red, previous.red)
            previous = color
        }
    }

    func testCustomMapNeedsTwoPoints() {
        assertWorkbenchError("at least two") { _ = try ColorMap(name: "one", controlPoints: [.black], isDiverging: false) }
        XCTAssertNoThrow(try ColorMap(name: "grey", controlPoints: [.white, .black], isDiverging: false))
    }

    func testDivergingLimitsAreSymmetricFromTheData() throws {
        XCTAssertEqual(try ColorScale.diverging().resolvedLimits(for: [-0.2, 0.5, .nan, 0.1]), -0.5...0.5)
        XCTAssertEqual(try ColorScale.diverging().resolvedLimits(for: [-3, 1, .infinity]), -3...3)
        XCTAssertEqual(try ColorScale.diverging().resolvedLimits(for: [0, 0]), -1...1)
        XCTAssertEqual(try ColorScale.diverging().resolvedLimits(for: []), -1...1)
        XCTAssertEqual(try ColorScale.diverging(limit: 2).resolvedLimits(for: [10]), -2...2)
    }

    func testSequentialLimitsFromTheData() throws {
        XCTAssertEqual(try ColorScale.sequential().resolvedLimits(for: [0.2, 0.9, .nan]), 0.2...0.9)
        XCTAssertEqual(try ColorScale.sequential().resolvedLimits(for: [3, 3]), 2.5...3.5)
        XCTAssertEqual(try ColorScale.probability.resolvedLimits(for: [5]), 0...1)
    }

    func testBadFixedLimitsAreErrors() {
        assertWorkbenchError("lower < upper") { _ = try ColorScale(colorMap: .blues, limits: 1...1).resolvedLimits(for: []) }
        assertWorkbenchError("finite") { _ = try ColorScale(colorMap: .blues, limits: 0...Double.infinity).resolvedLimits(for: []) }
    }

    func testResolvedScaleColoursAndNoData() throws {
        let scale = try ColorScale.diverging().resolved(for: [-2, 2])
        XCTAssertEqual(scale.color(for: 0), RGB(hex: 0xF7F7F7))
        XCTAssertEqual(scale.color(for: 2), RGB(hex: 0x67001F))
        XCTAssertEqual(scale.color(for: 9), RGB(hex: 0x67001F))
        XCTAssertNil(scale.color(for: .nan))
        XCTAssertNil(scale.color(for: -.infinity))
    }

    func testContrastingText() {
        XCTAssertEqual(RGB(hex: 0x053061).contrastingText, .white)
        XCTAssertEqual(RGB(hex: 0xF7F7F7).contrastingText, .black)
        XCTAssertEqual(RGB(hex: 0x2166AC).description, "#2166AC")
    }
}

/// The size of an array of `shape` in elements times `elementSize` (bytes per element, say), or nil when a
/// dimension is negative or the product overflows `Int`: the check for shapes read from files, before
/// anything is indexed or allocated with them.
///
///     checkedSize(of: [64, 60], elementSize: 4)   // 15360
///     checkedSize(of: [1 << 62, 60])               // nil: no file holds that
///     checkedSize(of: [-1, 60])                    // nil
public func checkedSize(of shape: [Int], elementSize: Int = 1) -> Int? {
    guard elementSize >= 0 else { return nil }
    var size = elementSize
    for dimension in shape {
        guard dimension >= 0 else { return nil }
        let (product, overflow) = size.multipliedReportingOverflow(by: dimension)
        if overflow { return nil }
        size = product
    }
    return size
}

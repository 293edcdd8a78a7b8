/// A pointer handed to the threads of `Parallel.forEach`, where each chunk reads or writes only its
/// own part of the memory (so sharing it is safe, which the compiler cannot see).
struct SharedPointer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>

    init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
    init(_ base: UnsafePointer<Element>) { self.base = UnsafeMutablePointer(mutating: base) }

    subscript(index: Int) -> Element {
        get { base[index] }
        nonmutating set { base[index] = newValue }
    }
}

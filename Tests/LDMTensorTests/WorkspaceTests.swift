import LDMTensor
import LDMTestSupport
import Testing

@Suite struct WorkspaceTests {
    /// A small "model call" (conv → GroupNorm+SiLU → conv → attention → add) run twice: the second
    /// call takes every buffer from the pool and scratch, allocating nothing.
    @Test func steadyStateAllocatesNothing() throws {
        let ws = Workspace()
        let x = try tensor([1, 8, 16, 16], seed: 40)
        let w1 = try tensor([16, 8, 3, 3], seed: 41), w2 = try tensor([24, 16, 1, 1], seed: 42)
        let gamma = try tensor([16], seed: 43), beta = try tensor([16], seed: 44)
        func call() throws -> [Float] {
            let h = try Conv2d.forward(x, weight: w1, bias: nil, padding: .symmetric(1), workspace: ws)
            try GroupNorm.forward(h, groups: 8, gamma: gamma, beta: beta, eps: 1e-5, fusedSiLU: true, into: h)
            let qkv = try Conv2d.forward(h, weight: w2, bias: nil, workspace: ws).reshaped([1, 24, 256])
            let a = try ws.tensor([1, 8, 256])
            try Attention.forward(qkv: qkv, heads: 2, scaling: .splitQK, into: a, workspace: ws)
            let sum = try ws.tensor([1, 8, 256])
            try Elementwise.add(a, try x.reshaped([1, 8, 256]), into: sum)
            return sum.values
        }
        let first = try call()
        let allocations = ws.allocations
        let second = try call()
        #expect(ws.allocations == allocations, "second call allocated \(ws.allocations - allocations) buffers")
        #expect(mismatches(first, second) == 0)
    }

    @Test func pooledStorageIsNotHandedOutWhileInUse() throws {
        let ws = Workspace()
        let a = try ws.tensor([4])
        let b = try ws.tensor([4])
        #expect(a.storage !== b.storage)
        a.data[0] = 1
        b.data[0] = 2
        #expect(a.data[0] == 1)
        let bStorage = b.storage
        _ = bStorage
    }

    @Test func tensorBasics() throws {
        let t = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let r = try t.reshaped([3, 2])
        r.data[0] = 9
        #expect(t.values[0] == 9, "reshape shares data")
        let c = try t.copy()
        c.data[0] = 0
        #expect(t.values[0] == 9, "copy does not")
        #expect(Int(bitPattern: t.data) % 64 == 0, "64-byte aligned")
        #expect(throws: TensorError.self) { _ = try t.reshaped([4, 2]) }
        #expect(throws: TensorError.self) { _ = try Tensor(shape: [2, 2], values: [1]) }
        #expect(throws: TensorError.self) { _ = try Tensor(shape: [Int.max, 4]) }
    }
}

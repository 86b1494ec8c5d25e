/// A binary min-heap of events ordered by (time, sequence number): equal-time events pop in the
/// order they were pushed, so runs are deterministic.
struct EventQueue {
    struct Event {
        var time: Int64
        var seq: UInt64
        var target: Int32
    }

    private var heap: [Event] = []
    private var counter: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var nextTime: Int64 { heap.first?.time ?? .max }

    @inline(__always)
    static func less(_ a: Event, _ b: Event) -> Bool { a.time < b.time || (a.time == b.time && a.seq < b.seq) }

    mutating func push(time: Int64, target: Int32) {
        let e = Event(time: time, seq: counter, target: target)
        counter &+= 1
        heap.append(e)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.less(e, heap[parent]) else { break }
            heap[i] = heap[parent]
            i = parent
        }
        heap[i] = e
    }

    mutating func pop() -> Event? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if heap.isEmpty { return top }
        var i = 0
        let n = heap.count
        while true {
            let l = 2 * i + 1
            if l >= n { break }
            let r = l + 1
            let c = r < n && Self.less(heap[r], heap[l]) ? r : l
            guard Self.less(heap[c], last) else { break }
            heap[i] = heap[c]
            i = c
        }
        heap[i] = last
        return top
    }
}

/// A queue of request ids kept contiguous (so schedulers get a buffer pointer) with cheap pushes at
/// both ends: preempted requests go back to the front, arrivals join at the back.
final class RequestQueue {
    private var storage: UnsafeMutablePointer<Int32>
    private var capacity: Int
    private(set) var head: Int
    private(set) var tail: Int

    init(capacity: Int = 64) {
        self.capacity = max(16, capacity)
        storage = .allocate(capacity: self.capacity)
        head = self.capacity / 4
        tail = head
    }

    deinit { storage.deallocate() }

    var count: Int { tail - head }
    var isEmpty: Bool { tail == head }
    var buffer: UnsafeBufferPointer<Int32> { UnsafeBufferPointer(start: storage + head, count: tail - head) }
    subscript(i: Int) -> Int32 { storage[head + i] }

    private func recentre(minimumCapacity: Int) {
        let n = count
        let newCapacity = max(capacity, minimumCapacity * 2, 16)
        let fresh = UnsafeMutablePointer<Int32>.allocate(capacity: newCapacity)
        let newHead = (newCapacity - n) / 2
        (fresh + newHead).update(from: storage + head, count: n)
        storage.deallocate()
        storage = fresh
        capacity = newCapacity
        head = newHead
        tail = newHead + n
    }

    func pushBack(_ r: Int32) {
        if tail == capacity { recentre(minimumCapacity: count + 1) }
        storage[tail] = r
        tail += 1
    }

    func pushFront(_ r: Int32) {
        if head == 0 { recentre(minimumCapacity: count + 1) }
        head -= 1
        storage[head] = r
    }

    /// Removes the `count` elements for which `marked` is true, keeping the others' order.
    /// Removing a prefix (the FCFS case) is O(count); otherwise the scan stops at the last one.
    func remove(count: Int, where marked: (Int32) -> Bool) {
        var removed = 0
        while removed < count && head < tail && marked(storage[head]) { head += 1; removed += 1 }
        if removed < count {
            var write = head
            var read = head
            while read < tail && removed < count {
                let v = storage[read]
                if marked(v) { removed += 1 } else { storage[write] = v; write += 1 }
                read += 1
            }
            // Close the gap left by the removed elements.
            if write < read {
                (storage + write).update(from: storage + read, count: tail - read)
                tail -= read - write
            }
        }
        if head == tail { head = capacity / 4; tail = head }
    }
}

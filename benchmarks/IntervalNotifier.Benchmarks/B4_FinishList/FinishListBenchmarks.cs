using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using IntervalNotifier.Collections;

namespace IntervalNotifier.Benchmarks.B4_FinishList;

/// <summary>
/// B4 — the finish list: push k records and take them all (in push order), on one thread,
/// against <see cref="ConcurrentStack{T}"/> (Push, then TryPopRange) and against the physical
/// limit, a bare compare-and-swap loop on one head (<see cref="BareCasLoop"/>, the baseline).
/// </summary>
[MemoryDiagnoser]
public class FinishListBenchmarks
{
    private readonly TreiberStack<Item> _stack = new();
    private readonly ConcurrentStack<Item> _concurrent = new();
    private readonly BareCasLoop _bare = new();
    private BareCasLoop.Node[] _nodes = null!;
    private Item[] _items = null!;
    private Item[] _buffer = null!;

    [Params(1, 16, 64)]
    public int K { get; set; }

    public sealed class Item : TreiberStackNode<Item>
    {
        public int Value;
    }

    [GlobalSetup]
    public void Setup()
    {
        _items = [.. Enumerable.Range(0, K).Select(i => new Item { Value = i })];
        _nodes = [.. Enumerable.Range(0, K).Select(i => new BareCasLoop.Node { Value = i })];
        _buffer = new Item[K];
    }

    [Benchmark(Baseline = true, Description = "bare CAS loop + exchange")]
    public int BareCas()
    {
        foreach (BareCasLoop.Node node in _nodes)
        {
            _bare.Push(node);
        }

        int sum = 0;
        for (BareCasLoop.Node? node = _bare.TakeAllInPushOrder(); node is not null; node = node.Link)
        {
            sum += node.Value;
        }

        return sum;
    }

    [Benchmark(Description = "ConcurrentStack Push + TryPopRange")]
    public int ConcurrentStack()
    {
        foreach (Item item in _items)
        {
            _concurrent.Push(item);
        }

        int taken = _concurrent.TryPopRange(_buffer);
        int sum = 0;
        for (int i = taken - 1; i >= 0; i--)
        {
            sum += _buffer[i].Value; // push order
        }

        return sum;
    }

    [Benchmark(Description = "TreiberStack Push + TakeAllInPushOrder")]
    public int Treiber()
    {
        foreach (Item item in _items)
        {
            _stack.Push(item);
        }

        int sum = 0;
        for (Item? node = _stack.TakeAllInPushOrder(); node is not null; node = node.Next)
        {
            sum += node.Value;
        }

        return sum;
    }
}

/// <summary>
/// B4, contended: two threads push at once (each its own fresh items), then everything is
/// taken at once. Reported per push.
/// </summary>
[MemoryDiagnoser]
public class FinishListContendedBenchmarks
{
    private const int PushesPerThread = 20_000;
    private readonly TreiberStack<FinishListBenchmarks.Item> _stack = new();
    private readonly ConcurrentStack<FinishListBenchmarks.Item> _concurrent = new();
    private readonly BareCasLoop _bare = new();
    private BareCasLoop.Node[][] _nodes = null!;
    private FinishListBenchmarks.Item[][] _items = null!;
    private FinishListBenchmarks.Item[] _buffer = null!;
    private Barrier _barrier = null!;
    private Thread _helper = null!;
    private volatile Action? _work;
    private volatile bool _stop;

    [GlobalSetup]
    public void Setup()
    {
        _items = [.. Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, PushesPerThread).Select(i => new FinishListBenchmarks.Item { Value = i }).ToArray())];
        _nodes = [.. Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, PushesPerThread).Select(i => new BareCasLoop.Node { Value = i }).ToArray())];
        _buffer = new FinishListBenchmarks.Item[2 * PushesPerThread];
        _barrier = new Barrier(2);
        _helper = new Thread(() =>
        {
            while (true)
            {
                _barrier.SignalAndWait();
                if (_stop)
                {
                    return;
                }

                _work!();
                _barrier.SignalAndWait();
            }
        })
        { IsBackground = true };
        _helper.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop = true;
        _barrier.SignalAndWait();
        _helper.Join();
        _barrier.Dispose();
    }

    private void RunOnBoth(Action<int> push)
    {
        _work = () => push(1);
        _barrier.SignalAndWait();
        push(0);
        _barrier.SignalAndWait();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = 2 * PushesPerThread, Description = "bare CAS loop, 2 pushers")]
    public int BareCas()
    {
        RunOnBoth(t =>
        {
            foreach (BareCasLoop.Node node in _nodes[t])
            {
                _bare.Push(node);
            }
        });
        int count = 0;
        for (BareCasLoop.Node? node = _bare.TakeAllInPushOrder(); node is not null; node = node.Link)
        {
            count++;
        }

        return count;
    }

    [Benchmark(OperationsPerInvoke = 2 * PushesPerThread, Description = "ConcurrentStack, 2 pushers")]
    public int ConcurrentStack()
    {
        RunOnBoth(t =>
        {
            foreach (FinishListBenchmarks.Item item in _items[t])
            {
                _concurrent.Push(item);
            }
        });
        return _concurrent.TryPopRange(_buffer);
    }

    [Benchmark(OperationsPerInvoke = 2 * PushesPerThread, Description = "TreiberStack, 2 pushers")]
    public int Treiber()
    {
        RunOnBoth(t =>
        {
            foreach (FinishListBenchmarks.Item item in _items[t])
            {
                _stack.Push(item);
            }
        });
        int count = 0;
        for (FinishListBenchmarks.Item? node = _stack.TakeAllInPushOrder(); node is not null; node = node.Next)
        {
            count++;
        }

        return count;
    }
}

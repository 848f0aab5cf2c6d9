using IntervalNotifier.Collections;

namespace IntervalNotifier.Tests.Collections;

public sealed class TreiberStackTests(ITestOutputHelper output)
{
    private sealed class Item(int thread, int index) : TreiberStackNode<Item>
    {
        public int Thread { get; } = thread;

        public int Index { get; } = index;
    }

    private static List<Item> ToList(Item? chain)
    {
        var list = new List<Item>();
        for (; chain is not null; chain = chain.Next)
        {
            list.Add(chain);
        }

        return list;
    }

    [Fact]
    public void Push_ReportsWhetherTheStackWasEmpty()
    {
        var stack = new TreiberStack<Item>();
        Assert.True(stack.IsEmpty);
        Assert.True(stack.Push(new Item(0, 0)));
        Assert.False(stack.Push(new Item(0, 1)));
        Assert.False(stack.IsEmpty);
        stack.TakeAll();
        Assert.True(stack.Push(new Item(0, 2)));
    }

    [Fact]
    public void Push_Null_Throws() => Assert.Throws<ArgumentNullException>(() => new TreiberStack<Item>().Push(null!));

    [Fact]
    public void TakeAll_ReturnsNewestFirst_AndEmptiesTheStack()
    {
        var stack = new TreiberStack<Item>();
        Assert.Null(stack.TakeAll());
        for (int i = 0; i < 5; i++)
        {
            stack.Push(new Item(0, i));
        }

        Assert.Equal([4, 3, 2, 1, 0], ToList(stack.TakeAll()).Select(x => x.Index));
        Assert.True(stack.IsEmpty);
        Assert.Null(stack.TakeAll());
    }

    [Fact]
    public void TakeAllInPushOrder_ReturnsOldestFirst()
    {
        var stack = new TreiberStack<Item>();
        for (int i = 0; i < 5; i++)
        {
            stack.Push(new Item(0, i));
        }

        Assert.Equal([0, 1, 2, 3, 4], ToList(stack.TakeAllInPushOrder()).Select(x => x.Index));
        Assert.Null(stack.TakeAllInPushOrder());
        Assert.Null(TreiberStack.Reverse<Item>(null));
    }

    [Fact]
    public void PushAndTakeAll_WarmLoop_AllocatesNothing()
    {
        var stack = new TreiberStack<Item>();
        Item[] items = [.. Enumerable.Range(0, 16).Select(i => new Item(0, i))];
        long before = GC.GetAllocatedBytesForCurrentThread();
        int seen = 0;
        for (int round = 0; round < 100; round++)
        {
            foreach (Item item in items)
            {
                stack.Push(item);
            }

            for (Item? c = stack.TakeAllInPushOrder(); c is not null; c = c.Next)
            {
                seen++;
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1600, seen);
    }

    [Theory]
    [InlineData(7, 3)]
    [InlineData(42, 4)]
    public async Task ConcurrentPushes_RacingTakeAll_LoseAndDuplicateNothing(int seed, int pushers)
    {
        // Bounded: a fixed number of pushes per thread, and a wall-clock cap on the whole test.
        const int PerThread = 50_000;
        var stack = new TreiberStack<Item>();
        var random = new Random(seed);
        int[] yieldEvery = [.. Enumerable.Range(0, pushers).Select(_ => random.Next(50, 500))];
        var seen = new bool[pushers, PerThread];
        int taken = 0;
        int pushersDone = 0;
        using var start = new Barrier(pushers + 1);

        Task[] tasks = [.. Enumerable.Range(0, pushers).Select(t => Task.Run(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < PerThread; i++)
            {
                stack.Push(new Item(t, i));
                if (i % yieldEvery[t] == 0)
                {
                    Thread.Yield();
                }
            }

            Interlocked.Increment(ref pushersDone);
        }, TestContext.Current.CancellationToken))];

        void Drain(Item? chain)
        {
            for (; chain is not null; chain = chain.Next)
            {
                Assert.False(seen[chain.Thread, chain.Index], $"item {chain.Thread}/{chain.Index} taken twice (seed {seed})");
                seen[chain.Thread, chain.Index] = true;
                taken++;
            }
        }

        Task consumer = Task.Run(() =>
        {
            start.SignalAndWait();
            while (Volatile.Read(ref pushersDone) < pushers)
            {
                Drain(stack.TakeAll());
            }

            Drain(stack.TakeAll());
        }, TestContext.Current.CancellationToken);

        Task all = Task.WhenAll([.. tasks, consumer]);
        Task finished = await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken));
        Assert.True(ReferenceEquals(finished, all), $"timed out (seed {seed})");
        try
        {
            await all;
            Assert.Equal(pushers * PerThread, taken);
        }
        catch
        {
            output.WriteLine($"seed = {seed}");
            throw;
        }
    }
}

using Microsoft.Coyote.Specifications;

namespace IntervalNotifier.SystematicTests;

/// <summary>
/// docs/contract.md §9 under Coyote: asynchronous begins racing each other, the read side, async
/// unsubscribes and subscribes, with finishes completing in every order and some faulting.
/// </summary>
public sealed class AsyncScenarios(ITestOutputHelper output)
{
    private sealed class Record : FinishRecord
    {
        public int Owner;
        public TaskCompletionSource? Done;
    }

    /// <summary>
    /// A one-page mirror behind an asynchronous device: the start pass marks the copy invalid
    /// (s = cur, under the mirror's lock) and starts the device's work; the device's work
    /// completes on a task of its own, and only then is the copy gone from the device. The
    /// planted bug: a finish that reports completion before the work is done.
    /// </summary>
    private sealed class AsyncMirror(FinishRecordPool<Record> pool, bool faults, bool completesEarly) : IAsyncTwoPassIntervalInvalidator
    {
        private static int s_nextOwner;
        private int _faulted;
        public readonly object Lock = new();
        public long Value;
        public bool Valid;       // the mirror's copy, as the CPU side sees it
        public bool OnDevice;    // the copy the device still holds until its work completes
        public volatile bool Unsubscribed;

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            Specification.Assert(!Unsubscribed, "a callback ran after UnsubscribeAsync completed");
            lock (Lock)
            {
                subscription.SetSequence(currentSequence);
                Valid = false;
            }

            if (pool.TryRent(out Record? record))
            {
                int owner = Interlocked.Increment(ref s_nextOwner);
                Specification.Assert(Interlocked.CompareExchange(ref record.Owner, owner, 0) == 0, "a rented record is held by another owner");
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                record.Done = done;
                _ = Task.Run(() => done.SetResult()); // the device's work, completing whenever the scheduler lets it
                finish = record;
                return true;
            }

            lock (Lock)
            {
                OnDevice = false; // fallback: the work is done here
            }

            finish = null;
            return true;
        }

        public void InvalidateFinish(FinishRecord finish) => InvalidateFinishAsync(finish).AsTask().Wait();

        public ValueTask InvalidateFinishAsync(FinishRecord finish)
        {
            var record = (Record)finish;
            Task work = record.Done!.Task;
            if (completesEarly)
            {
                _ = Task.Run(async () =>
                {
                    await work;
                    lock (Lock)
                    {
                        OnDevice = false;
                    }
                });
                Release(record);
                return ValueTask.CompletedTask;
            }

            return Finish(record, work);
        }

        private async ValueTask Finish(Record record, Task work)
        {
            await work;
            lock (Lock)
            {
                OnDevice = false;
            }

            Release(record);
            if (faults && Interlocked.Exchange(ref _faulted, 1) == 0)
            {
                throw new FormatException("device fault"); // the device's first finish only: a retried begin can succeed
            }
        }

        private static void Release(Record record)
        {
            int owner = Volatile.Read(ref record.Owner);
            Specification.Assert(owner != 0, "a record was finished twice");
            Specification.Assert(Interlocked.CompareExchange(ref record.Owner, 0, owner) == owner, "a record changed owner during its finish");
        }

        /// <summary>The §3 fault path with the awaitable read begin; publishes to both sides.</summary>
        public async Task Fault(IntervalSubscription subscription, Func<long> readPrimary)
        {
            while (true)
            {
                ulong seq = await subscription.ReadBeginAsync();
                long value = readPrimary();
                lock (Lock)
                {
                    if (subscription.ReadRetry(seq))
                    {
                        continue;
                    }

                    Value = value;
                    Valid = true;
                    OnDevice = true;
                }

                return;
            }
        }
    }

    private static Func<Task> Racing(bool completesEarly) => async () =>
    {
        var space = new AddressSpace();
        var pool = new FinishRecordPool<Record>(2);
        var mirror = new AsyncMirror(pool, faults: false, completesEarly);
        var faulty = new AsyncMirror(pool, faults: true, completesEarly: false);
        var leaving = new AsyncMirror(pool, faults: false, completesEarly: false);
        IntervalSubscription sub = space.Subscribe(0, 10, mirror);
        space.Subscribe(5, 10, faulty);
        IntervalSubscription leavingSub = space.Subscribe(8, 10, leaving);
        long primary = 0;

        // The invalidator changes the primary only inside a bracket that is open. A begin that
        // faults has been ended by the core (contract §8): the change did not happen, and the
        // invalidator tries again (the faulting device faults once, so the retry can succeed).
        async Task Invalidate(long value)
        {
            for (int attempt = 0; attempt < 2; attempt++)
            {
                InvalidationScope? scope = null;
                try
                {
                    scope = await space.BeginInvalidationAsync(new InvalidationRange(0, 20));
                }
                catch (FormatException)
                {
                    // The faulting device's exception, after every finish completed and the
                    // core ended the bracket.
                }

                // Every finish has completed, faulted or not: no device may still hold a copy
                // of the range that differs from the primary.
                lock (mirror.Lock)
                {
                    Specification.Assert(!mirror.OnDevice || mirror.Value == Volatile.Read(ref primary), "the begin completed while a device still held a stale copy");
                }

                if (scope is { } open)
                {
                    Volatile.Write(ref primary, value); // inside the open bracket
                    open.Dispose();
                    return;
                }
            }

            Specification.Assert(false, "a retried begin faulted again, though the device faults once");
        }

        Task fault = Task.Run(() => mirror.Fault(sub, () => Volatile.Read(ref primary)));
        Task first = Task.Run(() => Invalidate(1));
        Task second = Task.Run(() => Invalidate(2));
        Task unsubscribe = Task.Run(async () =>
        {
            await leavingSub.UnsubscribeAsync();
            leaving.Unsubscribed = true;
        });
        Task subscribe = Task.Run(() => space.Subscribe(3, 4, new AsyncMirror(pool, faults: false, completesEarly: false)));

        await fault;
        await first;
        await second;
        await unsubscribe;
        await subscribe;

        lock (mirror.Lock)
        {
            Specification.Assert(!mirror.OnDevice || mirror.Value == Volatile.Read(ref primary), $"the device keeps a stale copy {mirror.Value} of primary {Volatile.Read(ref primary)}");
        }

        Specification.Assert(space.ActiveInvalidations == 0, "an invalidation is still active");
        Specification.Assert(space.AsyncWaiterCount == 0, "a waiter was stranded");
        Specification.Assert(pool.Rented == 0, $"{pool.Rented} records not returned");
    };

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S9_AsyncBegins_RacingReadsUnsubscribesAndSubscribes_KeepMirrorsCoherent_AndReturnEveryRecord(uint seed) =>
        Systematic.AssertNoBug(Racing(completesEarly: false), seed, output);

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S9_AsyncBegins_FindADeviceWhoseFinishCompletesBeforeItsWork(uint seed) =>
        Systematic.AssertFindsBug(Racing(completesEarly: true), seed, output);
}

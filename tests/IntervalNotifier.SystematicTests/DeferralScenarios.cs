using Microsoft.Coyote.Specifications;

namespace IntervalNotifier.SystematicTests;

/// <summary>
/// docs/contract.md §5 under Coyote: unsubscribes racing each other, cancellations and new odd
/// periods. When an unsubscribe returns, no callback of its subscription runs or will run.
/// </summary>
public sealed class DeferralScenarios(ITestOutputHelper output)
{
    private sealed class Guarded : IIntervalInvalidator
    {
        public volatile bool Unsubscribed;

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
        {
            Specification.Assert(!Unsubscribed, "a callback ran after Dispose of its subscription returned");
            subscription.SetSequence(currentSequence);
            return true;
        }
    }

    /// <summary>Opens a bracket on a task of its own and holds it until told to end it.</summary>
    private sealed class HeldBracket : IDisposable
    {
        private readonly SemaphoreSlim _opened = new(0);
        private readonly SemaphoreSlim _end = new(0);
        private readonly Task _task;

        public HeldBracket(AddressSpace space, InvalidationRange range) =>
            _task = Task.Run(() =>
            {
                using (space.BeginInvalidation(range))
                {
                    _opened.Release();
                    _end.Wait();
                }
            });

        public Task Opened => _opened.WaitAsync();

        public Task EndAsync()
        {
            _end.Release();
            return _task;
        }

        public void Dispose()
        {
            _opened.Dispose();
            _end.Dispose();
        }
    }

    private static async Task Swallow(ValueTask wait)
    {
        try
        {
            await wait;
        }
        catch (OperationCanceledException)
        {
        }
    }

    // A non-strict unsubscribe (Dispose) waits for an UnsubscribeAsync's removal; that one is
    // cancelled (the removal is taken back); the last end wakes the Dispose; before it runs
    // again a new invalidation hits the subscription and a second UnsubscribeAsync queues a
    // removal, which is cancelled too. Dispose must not return on seeing someone else's pending
    // removal: it returns only once the subscription is out for good.
    private static async Task DisposeRacingCancelledUnsubscribes()
    {
        var space = new AddressSpace();
        var guarded = new Guarded();
        var range = new InvalidationRange(0, 10);
        IntervalSubscription victim = space.Subscribe(0, 10, guarded);
        using var cts1 = new CancellationTokenSource();
        using var cts2 = new CancellationTokenSource();

        using var first = new HeldBracket(space, range);
        await first.Opened;
        ValueTask u1 = victim.UnsubscribeAsync(cts1.Token); // queued: S is odd
        Task disposer = Task.Run(() =>
        {
            victim.Dispose();
            guarded.Unsubscribed = true;
        });
        cts1.Cancel();
        await first.EndAsync();

        using var second = new HeldBracket(space, range);
        await second.Opened;
        ValueTask u2 = default;
        try
        {
            u2 = victim.UnsubscribeAsync(cts2.Token);
        }
        catch (InvalidOperationException)
        {
            // The Dispose got there first (unsubscribed, or being unsubscribed): fine.
        }

        cts2.Cancel();
        await second.EndAsync();
        await Swallow(u1);
        await Swallow(u2);
        await disposer;

        Specification.Assert(!victim.IsSubscribed, "the subscription outlived Dispose");
        space.BeginInvalidation(range).Dispose(); // Guarded asserts that it is not called
        space.Dispose();
    }

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S5_Dispose_RacingCancelledUnsubscribeAsyncs_ReturnsOnlyWhenNoCallbackCanRun(uint seed) =>
        Systematic.AssertNoBug(DisposeRacingCancelledUnsubscribes, seed, output);

    // c. Deferral: subscribes and unsubscribes race invalidations. No callback runs after
    //    Unsubscribe returns; afterwards the tree holds exactly the live subscriptions.
    private sealed class NamedGuard(string name) : IIntervalInvalidator
    {
        public volatile bool Unsubscribed;
        public int Calls;

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
        {
            Specification.Assert(!Unsubscribed, $"{name}: callback after Unsubscribe returned");
            Interlocked.Increment(ref Calls);
            subscription.SetSequence(currentSequence);
            return true;
        }
    }

    private static async Task Deferral()
    {
        using var space = new AddressSpace();
        var stays = new NamedGuard("stays");
        var leaves = new NamedGuard("leaves");
        var late = new NamedGuard("late");
        var transient = new NamedGuard("transient");
        space.Subscribe(0, 100, stays);
        IntervalSubscription leaving = space.Subscribe(10, 10, leaves);
        IntervalSubscription? lateSub = null;

        Task invalidator1 = Task.Run(() => space.BeginInvalidation(new InvalidationRange(0, 50)).Dispose());
        Task invalidator2 = Task.Run(() => space.BeginInvalidation(new InvalidationRange(15, 16)).Dispose());
        Task unsubscriber = Task.Run(() =>
        {
            leaving.Unsubscribe();
            leaves.Unsubscribed = true;
        });
        Task subscriber = Task.Run(() =>
        {
            lateSub = space.Subscribe(20, 5, late);
            IntervalSubscription t = space.Subscribe(30, 5, transient);
            t.Unsubscribe();
            transient.Unsubscribed = true;
        });

        await invalidator1;
        await invalidator2;
        await unsubscriber;
        await subscriber;

        IntervalSubscription[] live = [.. space.GetSubscriptions()];
        Specification.Assert(live.Length == 2 && space.SubscriptionCount == 2, $"{live.Length} live subscriptions, count {space.SubscriptionCount}");
        Specification.Assert(live[0].Invalidator == stays && live[1] == lateSub, "the live set is not {stays, late}");

        // The tree holds exactly them: a walk over everything calls exactly their callbacks.
        int staysBefore = stays.Calls, lateBefore = late.Calls;
        space.BeginInvalidation(new InvalidationRange(0, 1000)).Dispose();
        Specification.Assert(stays.Calls == staysBefore + 1 && late.Calls == lateBefore + 1, "the walk missed a live subscription");
    }

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S5_Deferral_NoCallbackAfterUnsubscribe_TreeHoldsExactlyTheLive(uint seed) =>
        Systematic.AssertNoBug(Deferral, seed, output, raceChecking: true);
}

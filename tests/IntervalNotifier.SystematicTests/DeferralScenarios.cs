using Microsoft.Coyote.Specifications;

namespace IntervalNotifier.SystematicTests;

/// <summary>
/// semantics.md §5 under Coyote: unsubscribes racing each other, cancellations and new odd
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

    [Fact]
    public void S5_Dispose_RacingCancelledUnsubscribeAsyncs_ReturnsOnlyWhenNoCallbackCanRun() =>
        Systematic.AssertNoBug(DisposeRacingCancelledUnsubscribes, 501, output);
}

using IntervalNotifier.CodeFixes;
using Verifier = IntervalNotifier.Analyzers.Tests.Verify<IntervalNotifier.Analyzers.WaitInAsyncFinishAnalyzer>;

namespace IntervalNotifier.Analyzers.Tests.Rules;

/// <summary>INN0006: waiting for the address space inside InvalidateFinishAsync.</summary>
public sealed class WaitInAsyncFinishTests
{
    private static string Device(string finishBody) => $$"""
        sealed class Device(IntervalSubscription other, AddressSpace space) : IAsyncTwoPassIntervalInvalidator
        {
            public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
            {
                subscription.SetSequence(currentSequence);
                finish = null;
                return true;
            }

            public void InvalidateFinish(FinishRecord finish)
            {
            }

            public async ValueTask InvalidateFinishAsync(FinishRecord finish)
            {
                await Task.Yield();
        {{finishBody}}
            }
        }
        """;

    [Fact]
    public Task AwaitedUnsubscribeAndOwnReadBegin_Report() =>
        Verifier.AnalyzerAsync(Device("""
                    await {|#0:other.UnsubscribeAsync()|};
                    ulong sequence = await {|#1:finish.Subscription!.ReadBeginAsync()|};
                    await {|#2:finish.Subscription!.DisposeAsync()|}.ConfigureAwait(false);
                    {|#3:other.Unsubscribe()|};
            """), Verifier.Diagnostic(0), Verifier.Diagnostic(1), Verifier.Diagnostic(2), Verifier.Diagnostic(3));

    [Fact]
    public Task DeferredOrOtherReadsOrNewInvalidations_DoNotReport() =>
        Verifier.AnalyzerAsync(Device("""
                    finish.Subscription!.UnsubscribeDeferred();
                    ulong sequence = await other.ReadBeginAsync();  // waits only if this invalidation hit it
                    _ = sequence;
                    using (await space.BeginInvalidationAsync(new InvalidationRange(0, 1)))
                    {
                    }
            """));

    [Fact]
    public Task Fix_AwaitedUnsubscribeAsync_BecomesUnsubscribeDeferred() =>
        Verifier.FixAsync<UseUnsubscribeDeferredCodeFix>(
            Device("""
                    await {|#0:finish.Subscription!.UnsubscribeAsync()|}.ConfigureAwait(false);
            """),
            Device("""
                    finish.Subscription!.UnsubscribeDeferred();
            """),
            Verifier.Diagnostic());
}

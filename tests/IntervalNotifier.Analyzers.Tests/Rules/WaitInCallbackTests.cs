using IntervalNotifier.CodeFixes;
using Verifier = IntervalNotifier.Analyzers.Tests.Verify<IntervalNotifier.Analyzers.WaitInCallbackAnalyzer>;

namespace IntervalNotifier.Analyzers.Tests.Rules;

/// <summary>INN0005: an unsubscribe or a read begin of the callback's own subscription inside Invalidate / InvalidateStart / InvalidateFinish.</summary>
public sealed class WaitInCallbackTests
{
    [Fact]
    public Task UnsubscribeDisposeAndReadBegin_InCallbacks_Report() =>
        Verifier.AnalyzerAsync("""
            sealed class Mirror(IntervalSubscription other) : IIntervalInvalidator
            {
                public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
                {
                    subscription.SetSequence(currentSequence);
                    {|#0:subscription.Unsubscribe()|};
                    {|#1:other.Dispose()|};
                    ulong sequence = {|#2:subscription.ReadBegin()|};
                    _ = {|#3:subscription.UnsubscribeAsync()|};
                    return true;
                }
            }

            sealed class Device : ITwoPassIntervalInvalidator
            {
                public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
                {
                    subscription.SetSequence(currentSequence);
                    finish = null;
                    return true;
                }

                public void InvalidateFinish(FinishRecord finish)
                {
                    _ = {|#4:finish.Subscription!.ReadBeginAsync()|};
                    finish.Subscription?{|#5:.Unsubscribe()|};
                }
            }
            """,
            Verifier.Diagnostic(0), Verifier.Diagnostic(1), Verifier.Diagnostic(2), Verifier.Diagnostic(3), Verifier.Diagnostic(4), Verifier.Diagnostic(5));

    [Fact]
    public Task DeferredOrLaterOrOtherReads_DoNotReport() =>
        Verifier.AnalyzerAsync("""
            sealed class Mirror(IntervalSubscription other) : IIntervalInvalidator
            {
                public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
                {
                    subscription.SetSequence(currentSequence);
                    subscription.UnsubscribeDeferred();
                    _ = Task.Run(() => other.Unsubscribe());   // runs later, on another thread
                    ulong sequence = other.ReadBegin();          // waits only if this invalidation hit it
                    _ = sequence;
                    return true;
                }

                public void Drop(IntervalSubscription subscription) => subscription.Unsubscribe(); // not a callback
            }
            """);

    [Fact]
    public Task Fix_Unsubscribe_BecomesUnsubscribeDeferred() =>
        Verifier.FixAsync<UseUnsubscribeDeferredCodeFix>(
            """
            sealed class Mirror : IIntervalInvalidator
            {
                public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
                {
                    subscription.SetSequence(currentSequence);
                    {|#0:subscription.Unsubscribe()|}; // drop it
                    return true;
                }
            }
            """,
            """
            sealed class Mirror : IIntervalInvalidator
            {
                public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
                {
                    subscription.SetSequence(currentSequence);
                    subscription.UnsubscribeDeferred(); // drop it
                    return true;
                }
            }
            """,
            Verifier.Diagnostic());

    [Fact]
    public Task Fix_DiscardedUnsubscribeAsync_BecomesUnsubscribeDeferred() =>
        Verifier.FixAsync<UseUnsubscribeDeferredCodeFix>(
            """
            sealed class Device : ITwoPassIntervalInvalidator
            {
                public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
                {
                    subscription.SetSequence(currentSequence);
                    finish = null;
                    return true;
                }

                public void InvalidateFinish(FinishRecord finish)
                {
                    _ = {|#0:finish.Subscription!.UnsubscribeAsync(CancellationToken.None)|};
                }
            }
            """,
            """
            sealed class Device : ITwoPassIntervalInvalidator
            {
                public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
                {
                    subscription.SetSequence(currentSequence);
                    finish = null;
                    return true;
                }

                public void InvalidateFinish(FinishRecord finish)
                {
                    finish.Subscription!.UnsubscribeDeferred();
                }
            }
            """,
            Verifier.Diagnostic());
}

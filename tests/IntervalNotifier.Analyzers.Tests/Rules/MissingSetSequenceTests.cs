using Verifier = IntervalNotifier.Analyzers.Tests.Verify<IntervalNotifier.Analyzers.MissingSetSequenceAnalyzer>;

namespace IntervalNotifier.Analyzers.Tests.Rules;

/// <summary>INN0004: a path of Invalidate / InvalidateStart that returns true without SetSequence.</summary>
public sealed class MissingSetSequenceTests
{
    [Fact]
    public Task Invalidate_NoSetSequence_Reports() =>
        Verifier.AnalyzerAsync("""
            sealed class Mirror : IIntervalInvalidator
            {
                public bool Valid;

                public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
                {
                    Valid = false;
                    {|#0:return true;|}
                }
            }
            """, Verifier.Diagnostic());

    [Fact]
    public Task Invalidate_OnePathSkipsSetSequence_ReportsThatPath() =>
        Verifier.AnalyzerAsync("""
            sealed class Mirror : IIntervalInvalidator
            {
                private readonly object _lock = new();
                public bool Valid;

                public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
                {
                    if (!Valid)
                    {
                        {|#0:return true;|}
                    }

                    lock (_lock)
                    {
                        subscription.SetSequence(currentSequence);
                        Valid = false;
                    }

                    return true;
                }
            }
            """, Verifier.Diagnostic());

    [Fact]
    public Task InvalidateStartAndExplicitImplementation_NoSetSequence_Report() =>
        Verifier.AnalyzerAsync("""
            sealed class Device : ITwoPassIntervalInvalidator
            {
                public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
                {
                    finish = null;
                    {|#0:return true;|}
                }

                public void InvalidateFinish(FinishRecord finish)
                {
                }
            }

            sealed class Explicit : IIntervalInvalidator
            {
                private bool _valid;

                bool IIntervalInvalidator.Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
                {
                    _valid = false;
                    {|#1:return true;|}
                }
            }
            """, Verifier.Diagnostic(0), Verifier.Diagnostic(1));

    [Fact]
    public Task SetSequenceOnEveryPath_OrHandedOn_OrOwnerFiltered_DoesNotReport() =>
        Verifier.AnalyzerAsync("""
            sealed class Mirror : IIntervalInvalidator
            {
                private readonly object _lock = new();

                public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
                {
                    if (range.Event == InvalidationEvent.Migrate && range.Owner == this)
                    {
                        return true; // an event this mirror caused itself
                    }

                    if (!range.Blockable)
                    {
                        return false;
                    }

                    lock (_lock)
                    {
                        subscription.SetSequence(currentSequence);
                    }

                    return true;
                }
            }

            sealed class Delegating : IIntervalInvalidator
            {
                public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
                {
                    Drop(subscription, currentSequence);
                    return true;
                }

                private static void Drop(IntervalSubscription subscription, ulong sequence) => subscription.SetSequence(sequence);
            }

            sealed class Forwarding(IIntervalInvalidator inner) : IIntervalInvalidator
            {
                public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence) =>
                    inner.Invalidate(subscription, range, currentSequence);
            }

            sealed class Observer : IIntervalInvalidator
            {
                public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence) => true; // keeps no copy
            }

            sealed class NotAnInvalidator
            {
                public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence) => true;
            }
            """);
}

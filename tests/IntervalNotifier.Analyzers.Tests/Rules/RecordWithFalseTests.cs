using Verifier = IntervalNotifier.Analyzers.Tests.Verify<IntervalNotifier.Analyzers.RecordWithFalseAnalyzer>;

namespace IntervalNotifier.Analyzers.Tests.Rules;

/// <summary>INN0007: InvalidateStart assigning a record and returning false.</summary>
public sealed class RecordWithFalseTests
{
    private static string Device(string startBody) => $$"""
        sealed class Device(FinishRecordPool<FinishRecord> pool) : ITwoPassIntervalInvalidator
        {
            public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
            {
                subscription.SetSequence(currentSequence);
        {{startBody}}
            }

            public void InvalidateFinish(FinishRecord finish)
            {
            }
        }
        """;

    [Fact]
    public Task RecordThenFalse_Reports() =>
        Verifier.AnalyzerAsync(Device("""
                    finish = new FinishRecord();
                    if (!range.Blockable)
                    {
                        {|#0:return false;|}
                    }

                    return true;
            """), Verifier.Diagnostic());

    [Fact]
    public Task RecordOnOnePathThenFalse_Reports() =>
        Verifier.AnalyzerAsync(Device("""
                    finish = null;
                    if (pool.TryRent(out FinishRecord? record))
                    {
                        finish = record;
                    }

                    {|#0:return false;|}
            """), Verifier.Diagnostic());

    [Fact]
    public Task NoRecordWithFalse_DoesNotReport() =>
        Verifier.AnalyzerAsync(Device("""
                    if (!range.Blockable)
                    {
                        finish = null;
                        return false;
                    }

                    if (pool.TryRent(out FinishRecord? record))
                    {
                        finish = record;
                        return true;
                    }

                    finish = default;
                    return false;
            """));
}

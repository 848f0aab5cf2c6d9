using Verifier = IntervalNotifier.Analyzers.Tests.Verify<IntervalNotifier.Analyzers.RecordReturnedAfterHandOffAnalyzer>;

namespace IntervalNotifier.Analyzers.Tests.Rules;

/// <summary>INN0008: a pooled record returned to its pool while the core owns it.</summary>
public sealed class RecordReturnedAfterHandOffTests
{
    private static string Device(string startBody, string finishBody = "") => $$"""
        sealed class FlushRecord : FinishRecord
        {
            public long Ticket;
        }

        sealed class Device(FinishRecordPool<FlushRecord> pool) : ITwoPassIntervalInvalidator
        {
            public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
            {
                subscription.SetSequence(currentSequence);
        {{startBody}}
            }

            public void InvalidateFinish(FinishRecord finish)
            {
        {{finishBody}}
            }
        }
        """;

    [Fact]
    public Task ReturnInInvalidateFinish_Reports() =>
        Verifier.AnalyzerAsync(Device(
            """
                    finish = null;
                    return true;
            """,
            """
                    var record = (FlushRecord)finish;
                    Wait(record.Ticket);
                    {|#0:pool.Return(record)|};
                }

                public void Other(FinishRecord finish)
                {
                    if (finish is FlushRecord flush)
                    {
                        pool.Return(flush); // not a callback
                    }
                }

                private static void Wait(long ticket)
                {
            """), Verifier.Diagnostic());

    [Fact]
    public Task ReturnAfterHandingOver_InStart_Reports() =>
        Verifier.AnalyzerAsync(Device("""
                    if (pool.TryRent(out FlushRecord? record))
                    {
                        finish = record;
                        {|#0:pool.Return(record)|};
                        return true;
                    }

                    finish = null;
                    return true;
            """), Verifier.Diagnostic());

    [Fact]
    public Task ReturnInFinallyAfterHandingOver_Reports() =>
        Verifier.AnalyzerAsync(Device("""
                    pool.TryRent(out FlushRecord? record);
                    try
                    {
                        finish = record;
                        return true;
                    }
                    finally
                    {
                        {|#0:pool.Return(record!)|};
                    }
            """), Verifier.Diagnostic());

    [Fact]
    public Task ReturnOfARecordNotHandedOver_DoesNotReport() =>
        Verifier.AnalyzerAsync(Device("""
                    if (pool.TryRent(out FlushRecord? record))
                    {
                        if (range.Start == 0)
                        {
                            pool.Return(record);   // the work is done already: give it back, hand nothing over
                            finish = null;
                            return true;
                        }

                        finish = record;
                        return true;
                    }

                    finish = null;
                    return true;
            """));

    [Fact]
    public Task ReturnThenRecordCleared_DoesNotReport() =>
        Verifier.AnalyzerAsync(Device("""
                    pool.TryRent(out FlushRecord? record);
                    finish = record;
                    if (range.Start == 0)
                    {
                        pool.Return(record!);
                        finish = null;
                    }

                    return true;
            """));
}

namespace IntervalNotifier.Benchmarks.Baselines;

/// <summary>
/// B4's physical limit: a bare compare-and-swap loop on one head, with the link a plain field of
/// the node — what any lock-free push must pay at least — and take-all by one exchange.
/// </summary>
public sealed class BareCasLoop
{
    private Node? _head;

    public sealed class Node
    {
        public Node? Link;
        public int Value;
    }

    public void Push(Node node)
    {
        Node? head = Volatile.Read(ref _head);
        while (true)
        {
            node.Link = head;
            Node? seen = Interlocked.CompareExchange(ref _head, node, head);
            if (ReferenceEquals(seen, head))
            {
                return;
            }

            head = seen;
        }
    }

    public Node? TakeAllInPushOrder()
    {
        Node? chain = Interlocked.Exchange(ref _head, null);
        Node? reversed = null;
        while (chain is not null)
        {
            Node? next = chain.Link;
            chain.Link = reversed;
            reversed = chain;
            chain = next;
        }

        return reversed;
    }
}

using IntervalNotifier.Internal;

namespace IntervalNotifier.Tests.Internal;

/// <summary>The one list code of the core: order, membership by links, counts, and its own check.</summary>
public sealed class IntrusiveListTests(ITestOutputHelper output)
{
    private sealed class Node(int id) : IListNode<Node>
    {
        private ListLinks<Node> _links;

        public int Id { get; } = id;

        public static ref ListLinks<Node> LinksOf(Node node) => ref node._links;

        public override string ToString() => $"#{Id}";
    }

    private static List<Node> Walk(in IntrusiveList<Node> list)
    {
        var result = new List<Node>();
        for (Node? n = list.First; n is not null; n = IntrusiveList<Node>.NextOf(n))
        {
            result.Add(n);
        }

        return result;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(20261201)]
    public void RandomOperations_AgainstAList_KeepOrderMembershipAndCount(int seed)
    {
        var random = new Random(seed);
        var list = default(IntrusiveList<Node>);
        var model = new List<Node>();
        Node[] nodes = [.. Enumerable.Range(0, 16).Select(i => new Node(i))];
        try
        {
            for (int op = 0; op < 5000; op++)
            {
                Node n = nodes[random.Next(nodes.Length)];
                bool inList = model.Contains(n);
                Assert.Equal(inList, list.Contains(n));
                switch (random.Next(4))
                {
                    case 0 when !inList:
                        list.AddLast(n);
                        model.Add(n);
                        break;
                    case 1 when !inList:
                        list.AddFirst(n);
                        model.Insert(0, n);
                        break;
                    case 2 when inList:
                        list.Remove(n);
                        model.Remove(n);
                        break;
                    case 3:
                        Node? first = list.TakeFirst();
                        Assert.Equal(model.FirstOrDefault(), first);
                        if (model.Count > 0)
                        {
                            model.RemoveAt(0);
                        }

                        break;
                }

                Assert.Null(list.Check());
                Assert.Equal(model, Walk(list));
                Assert.Equal(model.Count, list.Count);
                Assert.Equal(model.LastOrDefault(), list.Last);
                Assert.Equal(model.Count == 0, list.IsEmpty);
            }
        }
        catch
        {
            output.WriteLine($"seed = {seed}");
            throw;
        }
    }

    [Fact]
    public void DetachAll_EmptiesTheList_LeavesAChainInOrder_WhoseNodesAreNoLongerMembers()
    {
        var list = default(IntrusiveList<Node>);
        Node[] nodes = [new(1), new(2), new(3)];
        foreach (Node n in nodes)
        {
            list.AddLast(n);
        }

        Node? chain = list.DetachAll();
        Assert.True(list.IsEmpty);
        Assert.Equal(0, list.Count);
        Assert.All(nodes, n => Assert.False(list.Contains(n)));
        var taken = new List<Node>();
        while (IntrusiveList<Node>.TakeFromChain(ref chain) is { } n)
        {
            Assert.Null(IntrusiveList<Node>.NextOf(n)); // cleared as it is taken
            taken.Add(n);
        }

        Assert.Equal(nodes, taken);
        list.AddLast(nodes[1]); // every node can be linked again
        Assert.Null(list.Check());
    }

    [Fact]
    public void Check_NoticesABrokenPreviousLinkAndAWrongCount()
    {
        var list = default(IntrusiveList<Node>);
        Node a = new(1), b = new(2);
        list.AddLast(a);
        list.AddLast(b);
        Node.LinksOf(b).Previous = null;
        Assert.NotNull(list.Check());
        Node.LinksOf(b).Previous = a;
        Assert.Null(list.Check());

        var shortList = default(IntrusiveList<Node>);
        shortList.AddLast(new Node(3));
        Node.LinksOf(shortList.First!).Next = a; // a longer chain than the count says
        Assert.NotNull(shortList.Check());
    }
}

using System.Runtime.CompilerServices;

namespace IntervalNotifier.Collections;

/// <summary>
/// The base class of an element of a <see cref="TreiberStack{T}"/>: it carries the stack's
/// link, so that pushing allocates nothing (an <em>intrusive</em> stack).
/// </summary>
/// <typeparam name="TSelf">The derived type itself (<c>class Item : TreiberStackNode&lt;Item&gt;</c>).</typeparam>
public abstract class TreiberStackNode<TSelf>
    where TSelf : TreiberStackNode<TSelf>
{
    private TSelf? _next;

    /// <summary>
    /// The next node of a chain returned by <see cref="TreiberStack{T}.TakeAll"/> or
    /// <see cref="TreiberStack{T}.TakeAllInPushOrder"/>; meaningless while the node is on a stack.
    /// </summary>
    public TSelf? Next => _next;

    /// <summary>Reaches the link for <see cref="TreiberStackCore{T, TLink}"/>.</summary>
    internal readonly struct Link : IStackLink<TSelf>
    {
        public static ref TSelf? Next(TSelf node) => ref Unsafe.As<TreiberStackNode<TSelf>>(node)._next; // TSelf derives from it: no cast check (a helper call for a shared generic)
    }
}

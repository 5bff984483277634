package danau.engine;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.sparkproject.connect.grpc.Grpc;
import org.sparkproject.connect.grpc.Metadata;
import org.sparkproject.connect.grpc.ServerCall;
import org.sparkproject.connect.grpc.ServerCallHandler;
import org.sparkproject.connect.grpc.ServerInterceptor;
import org.sparkproject.connect.grpc.Status;

/**
 * Refuses every Spark Connect call that does not come from this machine.
 *
 * <p>Spark 3.5's Spark Connect server listens on every interface (spark.connect.grpc.binding.address
 * arrived in Spark 4, which Hudi 0.15 does not run on), so the local engine would otherwise take plans,
 * and with them the lake's credentials, from anyone on the network. scripts/stack/spark.sh compiles
 * this into $DANAU_HOME/jars/danau-engine.jar and names it in spark.connect.grpc.interceptor.classes.
 */
public final class LoopbackOnly implements ServerInterceptor {
  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    SocketAddress peer = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    if (peer instanceof InetSocketAddress) {
      InetSocketAddress address = (InetSocketAddress) peer;
      if (address.getAddress() != null && address.getAddress().isLoopbackAddress()) {
        return next.startCall(call, headers);
      }
    }
    call.close(Status.PERMISSION_DENIED.withDescription("the local Danau engine takes calls from this machine only"), new Metadata());
    return new ServerCall.Listener<Q>() {};
  }
}

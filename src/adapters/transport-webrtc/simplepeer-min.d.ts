// Types for simple-peer's prebuilt browser bundle: the same API as the `simple-peer` package.
declare module 'simple-peer/simplepeer.min.js' {
  import SimplePeer from 'simple-peer';
  export default SimplePeer;
}

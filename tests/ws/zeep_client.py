#!/usr/bin/python3
"""Independent SOAP client for the interoperability test (issue #4): Debian's python3-zeep loads the GSMA
ES4 SM-SR WSDL unchanged and calls our endpoint: ES4-GetEIS (synchronous) and ES4-EnableProfile
(asynchronous, wsa:ReplyTo = the callback URL). Usage: zeep_client.py SHARED_DIR URL CALLBACK_URL
Prints one line per exchange; exit status 0 when both exchanges went as expected."""
import sys

import zeep

RPS = '{http://namespaces.gsma.org/esim-messaging/3}'
WSA = '{http://www.w3.org/2005/08/addressing}'
EID = '89001012012341234012345678901224'


def main():
    shared, url, callback = sys.argv[1:4]
    wsdl = shared + '/spec/gsma-esim-messaging-3/ES4_SMSR.wsdl'
    # zeep adds wsa:Action, MessageID and To itself for operations whose WSDL declares a wsa:Action
    client = zeep.Client(wsdl)
    service = client.create_service(RPS + 'ES4SmSrServiceBinding', url)

    # the binding declares wsa:From as a required header part
    frm = client.get_element(WSA + 'From')
    from_hdr = frm(Address='http://127.0.0.1/zeep?EntityId=1.3.6.1.4.1.99999.1&EntityName=zeep')

    res = service['ES4-GetEIS'](FunctionCallIdentifier='ZEEP-1', Eid=EID, _soapheaders=[from_hdr])
    # the WSDL output declares header parts, so zeep hands back header and body
    body = res.body if hasattr(res, 'body') else res
    header = getattr(res, 'header', None)
    status = body.FunctionExecutionStatus.Status
    if header is not None:
        print('sync ES4-GetEIS RelatesTo:', header.RelatesTo._value_1 if header.RelatesTo is not None else None,
              flush=True)
    print('sync ES4-GetEIS:', status, flush=True)
    if status != 'EXECUTED_SUCCESS':
        return 1

    reply_to = client.get_element(WSA + 'ReplyTo')(Address=callback)
    res = service['ES4-EnableProfile'](FunctionCallIdentifier='ZEEP-2', ValidityPeriod=600, Eid=EID,
                                       Iccid='8933010000000000010', _soapheaders=[from_hdr, reply_to])
    # one-way at WSDL level: the provider accepted it (HTTP 202), the response comes to ReplyTo
    print('async ES4-EnableProfile accepted:', res, flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
